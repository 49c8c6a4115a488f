import { IDEMPOTENCY_WINDOW_MS } from './store.js';

/** Where the first append of an idempotency key put its message. */
export interface KeyedPosition {
  offset: number;
  epoch: string;
  time: number;
}

/**
 * Idempotency keys used within the window, per channel, in process memory:
 * the whole record of the memory store, and the SQLite store's index of what
 * its table holds (it is the only writer of its file). Expired keys are
 * dropped as time passes, oldest first.
 */
export class RecentKeys {
  // Per channel, in insertion order, which is also expiry order.
  private readonly channels = new Map<string, Map<string, KeyedPosition>>();
  private readonly byAge: Array<{ channel: string; key: string; time: number }> = [];
  private head = 0;

  constructor(private readonly windowMs = IDEMPOTENCY_WINDOW_MS) {}

  /** The key's first position when it was used within the window before `now`. */
  get(channel: string, key: string, now: number): KeyedPosition | undefined {
    this.prune(now);
    return this.channels.get(channel)?.get(key);
  }

  /** Records a key's first use. */
  set(channel: string, key: string, position: KeyedPosition): void {
    let keys = this.channels.get(channel);
    if (!keys) {
      keys = new Map();
      this.channels.set(channel, keys);
    }
    keys.set(key, position);
    this.byAge.push({ channel, key, time: position.time });
  }

  /** Forgets a key whose append was not stored after all. */
  delete(channel: string, key: string): void {
    this.channels.get(channel)?.delete(key);
  }

  /** Forgets every key of a channel (its history was removed). */
  forget(channel: string): void {
    this.channels.delete(channel);
  }

  /** Drops keys used at or before `now - window`. */
  prune(now: number): void {
    const oldest = now - this.windowMs;
    while (this.head < this.byAge.length && (this.byAge[this.head] as { time: number }).time <= oldest) {
      const { channel, key, time } = this.byAge[this.head++] as { channel: string; key: string; time: number };
      const keys = this.channels.get(channel);
      if (keys?.get(key)?.time === time) keys.delete(key);
      if (keys?.size === 0) this.channels.delete(channel);
    }
    // Compact the age list once its consumed head outgrows what is left.
    if (this.head > 1024 && this.head * 2 > this.byAge.length) {
      this.byAge.splice(0, this.head);
      this.head = 0;
    }
  }
}
