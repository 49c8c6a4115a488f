/**
 * Results of publishes made with an `idempotency_key` into channels without
 * history (stored ones are keyed by the store itself), so that a retried
 * request publishes nothing twice and answers what the first one did.
 * Keys act per channel and are remembered for {@link IDEMPOTENCY_WINDOW_MS}
 * (as in Centrifugo), on this node only; at most {@link MAX_KEYS} at once
 * (the oldest are forgotten first). A publish that failed is forgotten at
 * once, so that its retry can succeed.
 */

/** How long a key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60_000;
/** Keys remembered at most. */
const MAX_KEYS = 100_000;

interface Entry<T> {
  expiresAt: number;
  result: Promise<T>;
}

export class IdempotencyCache<T> {
  // A Map iterates in insertion order, which is also expiry order.
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The result of the first `run` for this channel and key within the window; runs it if there is none. */
  once(channel: string, key: string, run: () => Promise<T>): Promise<T> {
    const now = this.now();
    this.prune(now);
    const id = `${channel}\n${key}`;
    const existing = this.entries.get(id);
    if (existing && existing.expiresAt > now) return existing.result;
    const result = run();
    const entry: Entry<T> = { expiresAt: now + IDEMPOTENCY_WINDOW_MS, result };
    this.entries.delete(id);
    this.entries.set(id, entry);
    result.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    return result;
  }

  private prune(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size < MAX_KEYS) break;
      this.entries.delete(id);
    }
  }
}
