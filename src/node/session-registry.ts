import type { ChannelSpec } from '../channel/channel.js';
import type { Disconnect } from '../protocol/errors.js';

/** A position a client last saw, to recover from. */
export interface RecoveryRequest {
  offset: number;
  epoch: string;
  /**
   * Bytes this recovery may take when less than `recoveryMaxBytes` allows
   * (several recoveries that share one reply share one budget).
   */
  maxBytes?: number;
}

/** What a subscription made on the server's authority (server API `subscribe`) carries. */
export interface ServerSubscribeOptions {
  /** Shown as `chan_info` for this connection in the channel: presence, join/leave, its publications. */
  info?: unknown;
  /** JSON text handed to the client in the `subscribe` push (the SDK's `subscribed` context `data`). */
  data?: string;
  /** Deliver the publications after this position first, when the channel can recover them all. */
  recoverSince?: RecoveryRequest;
}

/** Narrows which of a user's connections a server API call acts on. */
export interface ConnectionFilter {
  /** Only the connection with this client id. */
  client?: string;
  /** Client ids to leave alone. */
  except?: readonly string[];
  /** Only connections whose token named this account session (`sid`). */
  accountSession?: string;
}

/** How the node can reach a connected session (for the server API and shutdown). */
export interface SessionHandle {
  readonly clientId: string;
  readonly user: string;
  /** The account session (`sid`) the connection's token named, if any. */
  readonly accountSession: string | undefined;
  /** Stops taking commands; those already running finish. */
  drain(): void;
  /** Closes the session with the shutdown code. */
  shutdown(): void;
  /** Closes the connection with a code and reason (the server API's `disconnect`), then cleans up. */
  disconnect(disconnect: Disconnect, detail: string): void;
  /**
   * Subscribes the connection to a channel on the server's authority,
   * without permission checks, and tells the client with a `subscribe` push
   * (the SDK emits a server-side `subscribed`, then routes the channel's
   * publications to the client's `publication` event). Runs in order with the
   * connection's own commands. Resolves false, changing nothing, when the
   * connection is already subscribed, at its subscription limit, or closed.
   */
  subscribeFromServer(channel: ChannelSpec, options: ServerSubscribeOptions): Promise<boolean>;
  /**
   * Ends the connection's subscription to `channel` (every subscription for
   * `""`) with an `unsubscribe` push whose code tells the SDK not to
   * resubscribe; leave and presence follow as for a client unsubscribe.
   * Runs in order with the connection's own commands. Resolves with how many
   * subscriptions ended.
   */
  unsubscribeFromServer(channel: string): Promise<number>;
}

/**
 * The sessions of one node: every open one (for shutdown), and the
 * connected ones by user (for the server API). A session is reachable by
 * user only once its connect reply was sent, so a server API call never acts
 * on a connection the client does not know is established.
 */
export class SessionRegistry {
  private readonly all = new Map<string, SessionHandle>();
  // Most users have one connection: it is stored as is, and a Set (a few
  // hundred bytes) only once a second connection arrives.
  private readonly byUser = new Map<string, SessionHandle | Set<SessionHandle>>();
  private connectedCount = 0;

  add(session: SessionHandle): void {
    this.all.set(session.clientId, session);
  }

  /** Marks an added session as connected, under its (now known) user. */
  connected(session: SessionHandle): void {
    if (!this.all.has(session.clientId)) return;
    const entry = this.byUser.get(session.user);
    if (entry === undefined) this.byUser.set(session.user, session);
    else if (entry === session || (entry instanceof Set && entry.has(session))) return;
    else if (entry instanceof Set) entry.add(session);
    else this.byUser.set(session.user, new Set([entry, session]));
    this.connectedCount++;
  }

  remove(session: SessionHandle): void {
    this.all.delete(session.clientId);
    const entry = this.byUser.get(session.user);
    if (entry === session) this.byUser.delete(session.user);
    else if (!(entry instanceof Set && entry.delete(session))) return;
    else if (entry.size === 0) this.byUser.delete(session.user);
    this.connectedCount--;
  }

  /** Open sessions, connected or not. */
  get size(): number {
    return this.all.size;
  }

  /** Connected sessions. */
  get connections(): number {
    return this.connectedCount;
  }

  /** Distinct users with a connected session (anonymous connections count as one user, ""). */
  get users(): number {
    return this.byUser.size;
  }

  values(): IterableIterator<SessionHandle> {
    return this.all.values();
  }

  /** The connected sessions of a user that the filter selects. */
  connectionsOf(user: string, filter: ConnectionFilter = {}): SessionHandle[] {
    const out: SessionHandle[] = [];
    const entry = this.byUser.get(user);
    for (const session of entry === undefined ? [] : entry instanceof Set ? entry : [entry]) {
      if (filter.client !== undefined && session.clientId !== filter.client) continue;
      if (filter.except?.includes(session.clientId)) continue;
      if (filter.accountSession !== undefined && session.accountSession !== filter.accountSession) continue;
      out.push(session);
    }
    return out;
  }
}
