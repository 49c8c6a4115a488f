import type { Publication, PublishRequest, StreamPosition } from '../protocol/types.js';

/** How long and how much of a channel's stream to keep. */
export interface Retention {
  /**
   * Keep at most this many publications (the newest). A positive integer.
   * Applied per append in call order: a later, larger size restores nothing.
   */
  size: number;
  /**
   * Drop publications older than this many milliseconds; 0 keeps them
   * forever. The TTL of a channel's latest append applies to all of its
   * publications; a longer TTL never brings back ones already expired.
   */
  ttlMs: number;
}

/**
 * How long a store remembers an idempotency key after the append that used
 * it: a publisher's retries within this window are stored once (Centrifugo
 * keeps its keys as long).
 */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60_000;

/** A publication as `append` returns it. */
export interface AppendedPublication extends Publication {
  /**
   * Set when the message's idempotency key had been used already: nothing
   * was stored, and offset, epoch and time are those of the first append.
   */
  replayed?: true;
}

/** A page request over one channel's stream. */
export interface HistoryQuery {
  /**
   * Maximum publications to return (an integer). 0 returns none (only the
   * position, `since` is still checked); a negative value means "all
   * retained", still bounded by the caller. Without `since`, a forward page
   * starts at the oldest retained publication, a reverse one at the newest.
   */
  limit: number;
  /**
   * Return publications after this position, ascending (with `reverse`:
   * before it, newest first). `read` throws {@link UnrecoverablePositionError}
   * when the epoch is non-empty and differs from the stream's, when the
   * offset is above the top, or (forward) when publications right after
   * `since.offset` are no longer retained. An empty epoch matches any.
   */
  since?: StreamPosition;
  /** Newest first. */
  reverse?: boolean;
  /**
   * Stop the page before the publication that would take its size past
   * this many bytes (`publicationBytes` in `stream-rules.ts`): a page holds the first
   * publications of the range, in page order, and never fewer than one when
   * the range has any (so a reader paging through always advances). Unset:
   * no byte bound.
   */
  maxBytes?: number;
}

/** The result of a history read. */
export interface HistoryPage {
  publications: Publication[];
  /** The stream's current top position (not the page's last offset). */
  position: StreamPosition;
}

/** Thrown by {@link Store.read} when the `since` position cannot be served. */
export class UnrecoverablePositionError extends Error {
  constructor(message = 'unrecoverable position') {
    super(message);
    this.name = 'UnrecoverablePositionError';
  }
}

/**
 * Durable per-channel message streams.
 *
 * Guarantees every implementation keeps (checked by `test/contracts/store-contract.ts`):
 * - **Positions.** Each channel has one stream with an epoch (a non-empty
 *   string) and offsets that start at 1 and go up by exactly 1 per appended
 *   publication, in the order `append` was called — also across several
 *   `append` calls that are in flight at once.
 * - **Durability.** The promise from `append` resolves only once the
 *   publications are durable (committed); after a restart on the same
 *   storage, the epoch, offsets and retained publications are unchanged.
 *   If it rejects, none of that call's publications were stored.
 * - **Retention.** After an append, at most `retention.size` publications
 *   are retained; publications older than `retention.ttlMs` are never
 *   returned. The top position never goes back, even when every
 *   publication has expired.
 * - **Epoch changes** only through {@link Store.removeHistory} (or loss of
 *   the storage), so an unchanged epoch means offsets are comparable.
 * - **Reads** never return a partial range silently: a `since` that
 *   cannot be served throws {@link UnrecoverablePositionError}.
 * - **Idempotency.** A message whose `idempotencyKey` was appended to the
 *   same channel within {@link IDEMPOTENCY_WINDOW_MS} (also earlier in the
 *   same call, or by an append still in flight, and across a restart) is
 *   not stored again and takes no offset: its result is the first one's
 *   position and time with `replayed: true`. `removeHistory` forgets the
 *   channel's keys. Stores shared by several processes keep this across
 *   them.
 */
export interface Store {
  /** Opens storage (creating it if needed). Must be called before any other method; calls before it reject. */
  open(): Promise<void>;

  /**
   * Appends publications to a channel's stream and returns them with their
   * offset, epoch and time, in the same order (a replayed one included, see
   * the idempotency guarantee). Resolves once durable;
   * promises of appends in flight at once resolve in call order. Rejects,
   * storing nothing and taking no offset, when `retention` is invalid.
   */
  append(channel: string, messages: PublishRequest[], retention: Retention): Promise<AppendedPublication[]>;

  /**
   * Reads a page of a channel's stream. A channel never written to is at
   * offset 0 with a fresh epoch. Sees every append whose promise resolved;
   * whether it sees appends still in flight depends on the implementation.
   */
  read(channel: string, query: HistoryQuery): Promise<HistoryPage>;

  /** The channel's current top position (creating the stream's epoch if new). */
  position(channel: string): Promise<StreamPosition>;

  /**
   * Drops a channel's publications and starts a new epoch; offsets keep
   * counting up. Appends called before it are dropped with the old epoch;
   * appends called after it get the new one.
   */
  removeHistory(channel: string): Promise<void>;

  /** Waits for pending writes to become durable, then releases the storage. Idempotent; other calls after it reject. */
  close(): Promise<void>;
}
