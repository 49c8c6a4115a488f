import type { ClientInfo } from '../protocol/types.js';

/** Counts of a channel's presence. */
export interface PresenceStats {
  /** Connections present. */
  numClients: number;
  /** Distinct users present (a user with two tabs counts once). */
  numUsers: number;
}

/** Which users are present: answers `has` in O(1). */
export interface UserLookup {
  has(user: string): boolean;
  /** Distinct users present. */
  readonly size: number;
}

/** The lookup of a channel where nobody is present. */
export const NOBODY: UserLookup = Object.freeze({ has: () => false, size: 0 });

/**
 * Who is in which channel, across every node of a deployment.
 *
 * Guarantees every implementation keeps (checked by `test/contracts/presence-contract.ts`):
 * - **Per connection.** Entries are keyed by client (connection) id; one
 *   user with several connections has several entries and counts as one user.
 * - **TTL.** An entry not refreshed (re-added) within `ttlMs` of its last
 *   `add` disappears from `get` and `stats`, so the clients of a node that
 *   died without cleaning up vanish on their own. Nodes refresh their live
 *   clients' entries well within the TTL.
 * - **Read-your-writes.** After `add` or `remove` resolves, `get` and
 *   `stats` on any node reflect it.
 * - `remove` of an absent entry is a no-op.
 * - **Cheap counts.** `stats` and `users` cost O(1) (amortized) whatever
 *   the number of entries; only `get` grows with the channel, so callers
 *   check `stats` before asking for every entry of a big channel.
 */
export interface PresenceManager {
  /** Adds or refreshes a client's entry in a channel. */
  add(channel: string, info: ClientInfo, ttlMs: number): Promise<void>;
  /** Removes a client's entry. */
  remove(channel: string, clientId: string): Promise<void>;
  /** Live entries by client id. */
  get(channel: string): Promise<Map<string, ClientInfo>>;
  /** Live counts. */
  stats(channel: string): Promise<PresenceStats>;
  /**
   * The users with a live entry. The lookup reflects presence when the
   * promise resolves and may follow later changes; read it before awaiting
   * anything else.
   */
  users(channel: string): Promise<UserLookup>;
  /** Releases resources (timers, clients). Idempotent. */
  close(): Promise<void>;
}
