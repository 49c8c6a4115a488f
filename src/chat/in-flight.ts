/**
 * Counting the chat operations that are running, so shutdown can wait for
 * them before the database they write to is closed.
 */
export class InFlight {
  private running = 0;
  private closed = false;
  private readonly waiting: (() => void)[] = [];

  /** @param refusal the error an operation started after {@link close} fails with. */
  constructor(private readonly refusal: () => Error) {}

  /** Whether {@link close} was called: new operations are refused. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs an operation, counted until it settles.
   * @throws the refusal error, without running it, once closing has begun.
   */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.refusal();
    this.running++;
    try {
      return await operation();
    } finally {
      this.running--;
      if (this.running === 0) for (const wake of this.waiting.splice(0)) wake();
    }
  }

  /** Refuses new operations and resolves once every running one has settled. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}
