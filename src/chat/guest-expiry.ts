import type { Logger } from '../log/logger.js';
import type { ChatStore } from './chat-store.js';

/** Longest wait between two sweeps. */
const MAX_SWEEP_INTERVAL_MS = 10 * 60_000;
/** Shortest wait between two sweeps (for tiny expiry periods). */
const MIN_SWEEP_INTERVAL_MS = 1000;

/**
 * Removes guests who have not been seen for `expiryMs` from rooms' member
 * lists, by a sweep every half of that period (at most every 10 minutes, at
 * least every second) and once at start. Each node may run it: the store's
 * sweep is idempotent, and the member versions it moves make every node's
 * cached member lists refresh. Their messages, DMs and profiles stay.
 */
export class GuestExpiry {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: ChatStore,
    private readonly expiryMs: number,
    private readonly logger: Logger,
  ) {}

  /** Starts sweeping; does nothing when expiry is off (0). */
  start(): void {
    if (this.expiryMs <= 0 || this.timer || this.stopped) return;
    const interval = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(this.expiryMs / 2)));
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
    void this.sweep();
  }

  /** Runs one sweep now (joining one that is running). Failures are logged. */
  sweep(): Promise<void> {
    this.running ??= (async () => {
      try {
        const rooms = await this.store.expireGuests(Date.now() - this.expiryMs);
        if (rooms.length > 0) this.logger.info({ rooms: rooms.length }, 'chat: expired guests left member lists');
      } catch (err) {
        if (!this.stopped) this.logger.error({ err }, 'chat: guest expiry sweep failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops sweeping and waits for a running sweep. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
