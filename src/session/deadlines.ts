/** Something that must act when its deadline passes. */
export interface DeadlineTarget {
  onDeadline(): void;
}

/** How finely deadlines are told apart: one wake-up per step while any is set. */
const DEFAULT_STEP_MS = 250;

/**
 * One deadline per target (the connect timeout, then the token's expiry),
 * for any number of targets with a single timer.
 *
 * A `setTimeout` per connection costs a timer object, a closure and its
 * scope: a few hundred bytes each, for ten thousand idle connections. Here
 * a deadline costs two map entries: targets are kept in buckets of
 * `stepMs`, and one interval (running only while a deadline is set) calls
 * the targets of every bucket that has passed.
 *
 * Guarantees:
 * - `onDeadline` is called once per `set`, no earlier than the deadline and
 *   normally within one step after it; not at all after `clear` or a later
 *   `set` for the same target.
 * - The timer never keeps the process alive.
 * - Deadlines follow a monotonic clock: a change of the system time neither
 *   fires them early nor holds them back.
 * - A target cleared or moved by another target's `onDeadline` is not
 *   called for the old deadline; a target that throws is reported to
 *   `onError` and the others are still called.
 */
export class Deadlines {
  private readonly buckets = new Map<number, Set<DeadlineTarget>>();
  private readonly bucketOf = new Map<DeadlineTarget, number>();
  /** The last bucket whose targets were called. */
  private fired: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Told when a target's onDeadline throws (the others are still called). */
    private readonly onError: (error: unknown) => void = (error) => {
      throw error;
    },
    private readonly stepMs = DEFAULT_STEP_MS,
    // A monotonic clock: a wall-clock step must not fire or hold back deadlines.
    private readonly now: () => number = () => performance.now(),
  ) {
    this.fired = this.currentStep();
  }

  /** Sets (or moves) the target's deadline to `delayMs` from now. */
  set(target: DeadlineTarget, delayMs: number): void {
    const atMs = this.now() + delayMs;
    this.clear(target);
    if (!this.timer) {
      this.fired = this.currentStep();
      this.timer = setInterval(() => this.fire(), this.stepMs);
      this.timer.unref();
    }
    // Never into a bucket already fired: that one would not be looked at again.
    const step = Math.max(Math.ceil(atMs / this.stepMs), this.fired + 1);
    let bucket = this.buckets.get(step);
    if (!bucket) this.buckets.set(step, (bucket = new Set()));
    bucket.add(target);
    this.bucketOf.set(target, step);
  }

  clear(target: DeadlineTarget): void {
    const step = this.bucketOf.get(target);
    if (step === undefined) return;
    this.bucketOf.delete(target);
    const bucket = this.buckets.get(step);
    bucket?.delete(target);
    if (bucket?.size === 0) this.buckets.delete(step);
  }

  /** Number of targets with a deadline set. */
  get size(): number {
    return this.bucketOf.size;
  }

  /** Stops the timer; deadlines not yet passed are forgotten. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.buckets.clear();
    this.bucketOf.clear();
  }

  private currentStep(): number {
    return Math.floor(this.now() / this.stepMs);
  }

  private fire(): void {
    const current = this.currentStep();
    while (this.fired < current) {
      this.fired++;
      const step = this.fired;
      const bucket = this.buckets.get(step);
      if (!bucket) continue;
      for (const target of bucket) {
        // An earlier target's onDeadline may have cleared or moved this one.
        if (this.bucketOf.get(target) !== step) continue;
        this.bucketOf.delete(target);
        try {
          target.onDeadline();
        } catch (error) {
          // One target's failure must not cost the others their deadline.
          this.onError(error);
        }
      }
      // Removed only now, so clear() and set() from an onDeadline above found the bucket.
      if (this.buckets.get(step) === bucket) this.buckets.delete(step);
    }
    if (this.bucketOf.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
