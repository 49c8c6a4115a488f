import type { Logger } from '../log/logger.js';

/** How often a service that stays down is reported again. */
const REPEAT_MS = 30_000;

/**
 * Reports a service's connection going down and coming back, once per change
 * (and again every 30 s while it stays down), instead of once per failed
 * reconnect attempt. Messages never contain the service URL, which may carry
 * a password.
 */
export class ServiceLog {
  private down = false;
  private lastReported = 0;

  constructor(
    private readonly logger: Logger,
    private readonly service: string,
  ) {}

  failed(error: unknown): void {
    const now = Date.now();
    if (this.down && now - this.lastReported < REPEAT_MS) return;
    const first = !this.down;
    this.down = true;
    this.lastReported = now;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn({ service: this.service, reason }, first ? `${this.service} unreachable; retrying` : `${this.service} still unreachable; retrying`);
  }

  restored(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({ service: this.service }, `${this.service} connection restored`);
  }
}
