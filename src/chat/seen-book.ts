import type { Logger } from '../log/logger.js';
import type { AccountFacts } from './account-facts.js';
import type { ChatStore } from './chat-store.js';

/** A user's last-seen time is written at most once per this period by one process. */
export const SEEN_INTERVAL_MS = 60_000;
/** Users remembered at most; past this the memory is dropped and refilled as users act. */
const MAX_REMEMBERED = 10_000;

/**
 * Records when users were last seen (and their account's username, which
 * the directory searches and member lists show) without a write per chat
 * operation: at most one write per user per {@link SEEN_INTERVAL_MS} in
 * this process. Failures are logged, never passed to the caller: last seen
 * is bookkeeping, and the next call tries again.
 */
export class SeenBook {
  private readonly written = new Map<string, number>();

  constructor(
    private readonly store: ChatStore,
    private readonly facts: AccountFacts,
    private readonly logger: Logger,
  ) {}

  /** Records `userId` as seen at `now` unless this process did within the last minute. The user must have a stored profile to count. */
  async seen(userId: string, now: number = Date.now()): Promise<void> {
    const last = this.written.get(userId);
    if (last !== undefined && now - last < SEEN_INTERVAL_MS) return;
    if (this.written.size >= MAX_REMEMBERED) this.written.clear();
    this.written.set(userId, now);
    try {
      const fact = await this.facts.fresh(userId);
      await this.store.recordSeen(userId, { at: now, username: fact.username ?? null });
    } catch (err) {
      this.written.delete(userId);
      this.logger.error({ err }, 'chat: last seen not recorded');
    }
  }
}
