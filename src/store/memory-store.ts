import type { Publication, PublishRequest, StreamPosition } from '../protocol/types.js';
import { RecentKeys } from './recent-keys.js';
import {
  type AppendedPublication,
  type HistoryPage,
  type HistoryQuery,
  type Retention,
  type Store,
} from './store.js';
import { StoreLifecycle } from './store-lifecycle.js';
import { checkSince, newEpoch, publicationBytes, takeWithinBytes, toPublication, validateLimit, validateRetention } from './stream-rules.js';

/** One channel's stream. `pubs` holds the retained publications in ascending offset order. */
interface Stream {
  epoch: string;
  top: number;
  /** TTL of the last append; 0 keeps publications until trimmed by size. */
  ttlMs: number;
  pubs: Publication[];
}

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How often expired publications are dropped from memory. @default 60000 */
  sweepIntervalMs?: number;
}



/**
 * {@link Store} kept in process memory: every guarantee of the interface
 * holds except survival across a restart, since nothing is written anywhere.
 * Used in tests and when no persistence is wanted.
 *
 * Appends take effect synchronously when `append` is called, so a `read` or
 * `position` issued after an `append` call (even before its promise
 * resolves) sees it. Returned publications share `info`/`tags` objects
 * with the store; treat them as immutable.
 */
export class MemoryStore implements Store {
  private readonly streams = new Map<string, Stream>();
  private readonly sweepIntervalMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly lifecycle = new StoreLifecycle();
  private readonly keys = new RecentKeys();

  constructor(options: MemoryStoreOptions = {}) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  async open(): Promise<void> {
    if (!this.lifecycle.beginOpen()) return;
    this.lifecycle.opened();
    // Without this, channels that are never touched again would hold their
    // expired publications for the life of the process.
    this.sweepTimer = setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async append(channel: string, messages: PublishRequest[], retention: Retention): Promise<AppendedPublication[]> {
    this.lifecycle.assertOpen();
    validateRetention(retention);
    const stream = this.stream(channel);
    const now = Date.now();
    // Publications that expired under the previous TTL stay hidden even if
    // this append sets a longer one.
    this.dropExpired(stream, now);
    stream.ttlMs = retention.ttlMs;
    const results: AppendedPublication[] = [];
    const added: Publication[] = [];
    for (const message of messages) {
      const key = message.idempotencyKey;
      const first = key === undefined ? undefined : this.keys.get(channel, key, now);
      if (first) {
        results.push({ ...toPublication(message, first.offset, first.epoch, first.time), replayed: true });
        continue;
      }
      const publication = toPublication(message, ++stream.top, stream.epoch, now);
      if (key !== undefined) this.keys.set(channel, key, { offset: stream.top, epoch: stream.epoch, time: now });
      added.push(publication);
      results.push({ ...publication });
    }
    stream.pubs.push(...added);
    if (stream.pubs.length > retention.size) stream.pubs.splice(0, stream.pubs.length - retention.size);
    this.dropExpired(stream, now);
    return results;
  }

  async read(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.lifecycle.assertOpen();
    validateLimit(query.limit);
    const stream = this.stream(channel);
    this.dropExpired(stream, Date.now());
    const position: StreamPosition = { offset: stream.top, epoch: stream.epoch };
    const first = stream.pubs[0]?.offset ?? stream.top + 1;
    const { since, reverse = false, limit } = query;
    if (since) checkSince(since, position, reverse, () => first);
    if (limit === 0) return { publications: [], position };

    let selected: Publication[];
    if (reverse) {
      const below = since ? since.offset : Number.POSITIVE_INFINITY;
      selected = stream.pubs.filter((p) => (p.offset ?? 0) < below).reverse();
    } else {
      const after = since ? since.offset : 0;
      selected = stream.pubs.filter((p) => (p.offset ?? 0) > after);
    }
    if (limit > 0) selected = selected.slice(0, limit);
    if (query.maxBytes !== undefined) {
      selected = takeWithinBytes(selected, query.maxBytes, (p) =>
        publicationBytes(p.data, p.info && JSON.stringify(p.info), p.tags && JSON.stringify(p.tags)),
      );
    }
    return { publications: selected.map((p) => ({ ...p })), position };
  }

  async position(channel: string): Promise<StreamPosition> {
    this.lifecycle.assertOpen();
    const stream = this.stream(channel);
    return { offset: stream.top, epoch: stream.epoch };
  }

  async removeHistory(channel: string): Promise<void> {
    this.lifecycle.assertOpen();
    const stream = this.stream(channel);
    stream.pubs = [];
    this.keys.forget(channel);
    let epoch = newEpoch();
    while (epoch === stream.epoch) epoch = newEpoch();
    stream.epoch = epoch;
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    clearInterval(this.sweepTimer);
    this.streams.clear();
  }

  private stream(channel: string): Stream {
    let stream = this.streams.get(channel);
    if (!stream) {
      stream = { epoch: newEpoch(), top: 0, ttlMs: 0, pubs: [] };
      this.streams.set(channel, stream);
    }
    return stream;
  }

  /** Drops publications older than the stream's TTL (age strictly above `ttlMs`). */
  private dropExpired(stream: Stream, now: number): void {
    if (stream.ttlMs <= 0 || stream.pubs.length === 0) return;
    const oldest = now - stream.ttlMs;
    // Filter rather than cut a prefix: a clock step back can leave times out of order.
    const live = (p: Publication): boolean => (p.time ?? 0) >= oldest;
    if (!stream.pubs.every(live)) stream.pubs = stream.pubs.filter(live);
  }

  private sweep(): void {
    const now = Date.now();
    for (const stream of this.streams.values()) this.dropExpired(stream, now);
    this.keys.prune(now);
  }
}




