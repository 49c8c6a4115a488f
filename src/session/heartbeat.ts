/** What the heartbeat needs from a connection. */
export interface HeartbeatTarget {
  /**
   * Sends a protocol ping; calls `left` once it has been handed to the
   * kernel, behind whatever was sent before it (never, if the connection
   * closes first). A target that never calls it is judged from when the ping was sent.
   */
  sendPing(left: () => void): void;
  /**
   * Bytes handed to the kernel so far, growing while a large write is under
   * way; undefined when the target cannot tell (it is then not waited for).
   */
  readonly bytesSent?: number | undefined;
  /** Called when no pong arrived in time. */
  onPongTimeout(): void;
}

/** A ping not answered yet. */
interface PendingPong {
  /** When the pong is due: `pongTimeout` after the ping left, or after writing last made progress while it waits. */
  due: number;
  /** The target's `bytesSent` when `due` was last set. */
  sent: number;
  /** Whether the ping has been handed to the kernel. */
  left: boolean;
}

const IGNORE = (): void => undefined;

/**
 * Sends application pings to every connection and closes those that stop
 * answering. One interval for the whole server instead of two timers per
 * connection: connections are spread over `interval` one-second buckets, so
 * pings go out evenly rather than in one burst.
 *
 * The pong is due `pongTimeout` after the ping left, not after it was
 * queued: a ping queued behind a reply of several megabytes on a slow link
 * leaves only once the reply has, and the client cannot answer before. While
 * the ping waits, the connection is judged on progress instead: each
 * `pongTimeout` in which none of its bytes were handed to the kernel closes
 * it, so a peer that stopped reading is still dropped.
 */
export class Heartbeat {
  private readonly buckets: Set<HeartbeatTarget>[];
  private readonly bucketOf = new Map<HeartbeatTarget, number>();
  /** Targets pinged and not yet answered. */
  private readonly awaiting = new Map<HeartbeatTarget, PendingPong>();
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
    const timeoutMs = this.pongTimeoutSeconds * 1000;
    for (const [target, pong] of this.awaiting) {
      if (pong.due > now) continue;
      if (!pong.left) {
        // The ping still waits behind earlier writes: wait on while they make progress.
        const sent = target.bytesSent;
        if (sent !== undefined && sent > pong.sent) {
          pong.sent = sent;
          pong.due = now + timeoutMs;
          continue;
        }
      }
      this.remove(target);
      target.onPongTimeout();
    }
    this.tick = (this.tick + 1) % this.buckets.length;
    for (const target of this.buckets[this.tick] as Set<HeartbeatTarget>) {
      if (this.awaiting.has(target)) {
        target.sendPing(IGNORE);
        continue;
      }
      const pong: PendingPong = { due: now + timeoutMs, sent: target.bytesSent ?? 0, left: false };
      this.awaiting.set(target, pong);
      target.sendPing(() => {
        pong.left = true;
        pong.due = this.now() + timeoutMs;
      });
    }
  }
}
