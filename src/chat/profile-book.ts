import type { ChatStore } from './chat-store.js';
import type { ChatUser } from './protocol.js';

/** Profiles remembered at most; past this the memory is dropped and refilled as users act. */
const MAX_REMEMBERED = 10_000;

/**
 * Keeps the store's profiles in step with what connections present, without
 * a write per chat operation: a profile is written when this process has not
 * yet written that exact profile for the user.
 */
export class ProfileBook {
  private readonly written = new Map<string, string>();

  constructor(private readonly store: ChatStore) {}

  /** Resolves once the store holds `user` as given (durably). */
  async record(user: ChatUser, now: number = Date.now()): Promise<void> {
    const fingerprint = JSON.stringify([user.name, user.color, user.avatar ?? null, user.username ?? null]);
    if (this.written.get(user.id) === fingerprint) return;
    await this.store.upsertUser(user, now);
    if (this.written.size >= MAX_REMEMBERED) this.written.clear();
    this.written.set(user.id, fingerprint);
  }
}
