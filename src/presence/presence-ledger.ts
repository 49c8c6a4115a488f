import type { ClientInfo } from '../protocol/types.js';

/**
 * Which presence entries each node added, so that a survivor can remove a
 * dead node's entries (with leave events) long before their TTL ends.
 *
 * Guarantees:
 * - An entry a node adds is recorded under that node's id in the same
 *   atomic step, and unrecorded when it is removed through that node; the
 *   record expires with the node's longest-lived entry.
 * - `claim` returns true to exactly one caller per node id while its claim
 *   lives, so one survivor purges a dead node however many noticed.
 * - `onReconnect` listeners run each time the service comes back after the
 *   connection was lost: the service may have lost entries (a restart), and
 *   nodes re-add their own at once.
 */
export interface PresenceLedger {
  /** Claims the purge of `node`'s entries for `ttlMs`; true for the one caller that got it. */
  claim(node: string, ttlMs: number): Promise<boolean>;
  /** The entries recorded for `node` that are still present, with their info. */
  entriesOf(node: string): Promise<Array<{ channel: string; info: ClientInfo }>>;
  /**
   * Drops the record of these entries of `node` (once they are removed).
   * Entries it recorded since stay recorded, so a node that was taken for
   * dead while alive can still be purged when it really dies.
   */
  forget(node: string, entries: ReadonlyArray<{ channel: string; info: ClientInfo }>): Promise<void>;
  /** Calls `listener` whenever the connection to the service is back after a loss. */
  onReconnect(listener: () => void): void;
}
