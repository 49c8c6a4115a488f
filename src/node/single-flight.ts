/**
 * Coalesces identical concurrent work: while a call for a key is in flight,
 * later calls for that key share its promise instead of starting their own
 * (a burst of subscribers to one channel costs one store read). A shared
 * result may have been read a little before the later call was made; a call
 * made after the shared one settled runs afresh.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
