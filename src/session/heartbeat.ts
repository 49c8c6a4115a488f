/** What the heartbeat needs from a connection. */
export interface HeartbeatTarget {
  /** Sends a protocol ping. */
  sendPing(): void;
  /** Called when no pong arrived in time. */
  onPongTimeout(): void;
}

/**
 * Sends application pings to every connection and closes those that stop
 * answering. One interval for the whole server instead of two timers per
 * connection: connections are spread over `interval` one-second buckets, so
 * pings go out evenly rather than in one burst.
 */
export class Heartbeat {
  private readonly buckets: Set<HeartbeatTarget>[];
  private readonly bucketOf = new Map<HeartbeatTarget, number>();
  /** Targets pinged and not yet answered, with the time their pong is due. */
  private readonly awaiting = new Map<HeartbeatTarget, number>();
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param intervalSeconds seconds between pings to one connection
   * @param pongTimeoutSeconds seconds to wait for the pong
   */
  constructor(
    private readonly intervalSeconds: number,
    private readonly pongTimeoutSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    const count = Math.max(1, Math.round(intervalSeconds));
    this.buckets = Array.from({ length: count }, () => new Set());
  }

  start(): void {
    const stepMs = (this.intervalSeconds * 1000) / this.buckets.length;
    this.timer = setInterval(() => this.step(), stepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  add(target: HeartbeatTarget): void {
    // A random bucket: the first ping comes between one step and one interval after connect.
    const index = Math.floor(Math.random() * this.buckets.length);
    (this.buckets[index] as Set<HeartbeatTarget>).add(target);
    this.bucketOf.set(target, index);
  }

  remove(target: HeartbeatTarget): void {
    const index = this.bucketOf.get(target);
    if (index !== undefined) this.buckets[index]?.delete(target);
    this.bucketOf.delete(target);
    this.awaiting.delete(target);
  }

  /** Records a pong from a target. */
  pong(target: HeartbeatTarget): void {
    this.awaiting.delete(target);
  }

  private step(): void {
    const now = this.now();
    for (const [target, due] of this.awaiting) {
      if (due <= now) {
        this.remove(target);
        target.onPongTimeout();
      }
    }
    this.tick = (this.tick + 1) % this.buckets.length;
    const dueAt = now + this.pongTimeoutSeconds * 1000;
    for (const target of this.buckets[this.tick] as Set<HeartbeatTarget>) {
      if (!this.awaiting.has(target)) this.awaiting.set(target, dueAt);
      target.sendPing();
    }
  }
}
