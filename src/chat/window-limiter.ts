/**
 * A fixed-window counter per key: at most `limit` events per key in each
 * window of `windowMs`, the window starting at the key's first event. Used
 * for typing notices (per user and channel).
 *
 * Memory is bounded: past `maxKeys` keys, expired windows are dropped, and if
 * every window is still live they are all forgotten (a flood of distinct keys
 * would defeat the limit anyway).
 */
export class WindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /**
   * @param limit events allowed per key and window
   * @param windowMs length of a window
   * @param maxKeys keys remembered at most. @default 100000
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts an event for `key`; false (and not counted) when the key is over its limit. */
  take(key: string, now: number = Date.now()): boolean {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (!window && this.windows.size >= this.maxKeys) this.prune(now);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.limit) return false;
    window.count++;
    return true;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) this.windows.clear();
  }
}
