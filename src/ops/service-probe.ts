import type { Metrics } from './metrics.js';
import { settleWithin } from '../async/settle-within.js';

export interface ServiceProbeOptions {
  /** The service's name in `/ready` and in the `service` metric label (e.g. `redis`, `postgres`); never its URL. */
  service: string;
  /**
   * A cheap round trip to the service (`PING`, `SELECT 1`) on the client the
   * server already uses; rejects when the service cannot answer. It should
   * fail fast while the service is away (e.g. no offline queue) rather than
   * wait for it to come back: a check that does not settle in time counts as
   * failed, but it keeps running in the background until it settles.
   */
  check: () => Promise<void>;
  /**
   * Milliseconds between the end of one check and the start of the next.
   * @default 2000
   */
  intervalMs?: number;
  /**
   * Milliseconds a check may take before it counts as failed.
   * @default 1000
   */
  timeoutMs?: number;
}

/**
 * Checks one backing service every few seconds and says whether its last
 * check succeeded. A failing service makes the server not ready; the next
 * successful check makes it ready again, with nothing to restart. Round
 * trips and failures go to the server's metrics under `service="<name>"`.
 *
 * Guarantees: at most one check runs at a time (a timed-out check is no
 * longer waited for); {@link healthy} changes only when a check settles or
 * times out; between checks no timer keeps the process alive; after {@link stop} no check
 * starts.
 */
export class ServiceProbe {
  readonly service: string;
  private readonly check: () => Promise<void>;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private isHealthy = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: ServiceProbeOptions) {
    this.service = options.service;
    this.check = options.check;
    this.intervalMs = options.intervalMs ?? 2000;
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  /** Whether the last check succeeded; false before the first check. */
  get healthy(): boolean {
    return this.isHealthy;
  }

  /**
   * Runs a first check, then one every interval, recording into `metrics`.
   * Resolves once the first check settled (whatever its result).
   */
  start(metrics: Metrics): Promise<void> {
    this.stopped = false;
    return this.runAndSchedule(metrics);
  }

  /** Stops checking; resolves once a running check settled or timed out. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private runAndSchedule(metrics: Metrics): Promise<void> {
    this.running = this.runOnce(metrics).then(() => {
      this.running = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.runAndSchedule(metrics), this.intervalMs);
      this.timer.unref();
    });
    return this.running;
  }

  private async runOnce(metrics: Metrics): Promise<void> {
    const started = performance.now();
    try {
      // The check is called inside the try: a check that throws synchronously fails like one that rejects.
      // The timeout's timer stays referenced: a check in progress must settle or time out, or start() could never resolve.
      await settleWithin(Promise.resolve().then(this.check), this.timeoutMs, () => new Error('timed out'));
      this.isHealthy = true;
      metrics.serviceCheckSucceeded(this.service, performance.now() - started);
    } catch {
      this.isHealthy = false;
      metrics.serviceCheckFailed(this.service);
    }
  }
}
