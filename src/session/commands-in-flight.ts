/**
 * Commands of one connection with replies of any size (`rpc`, `presence`)
 * that may run side by side; the next waits until one of them has answered. With the
 * wait for reply room, this bounds what a client that never reads can make
 * the server hold: this many replies plus `maxQueuedBytes`.
 */
export const MAX_COMMANDS_IN_FLIGHT = 8;

/**
 * Counts one connection's commands that run without being awaited, so the
 * command loop can hold back the next while {@link MAX_COMMANDS_IN_FLIGHT}
 * are running.
 */
export class CommandsInFlight {
  private running = 0;
  private freed: (() => void) | undefined;

  /** Tracks a command started without being awaited, until it settles. */
  track(command: Promise<void>): void {
    this.running++;
    void command.finally(() => {
      this.running--;
      const wake = this.freed;
      this.freed = undefined;
      wake?.();
    });
  }

  /** Undefined when another command may start; otherwise a promise that resolves once one has settled. */
  slot(): Promise<void> | undefined {
    if (this.running < MAX_COMMANDS_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve) => (this.freed = resolve));
  }
}
