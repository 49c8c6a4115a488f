import type { AccountStore } from '../accounts/account-store.js';

/** What the chat needs to know of a user's account. */
export interface AccountFact {
  /** Absent for users without an account (guests who never claimed one, users of other backends' tokens). */
  username?: string;
  deactivated: boolean;
}

/** How long a looked-up fact is used before it is looked up again. */
export const ACCOUNT_FACT_TTL_MS = 15_000;
/** Facts kept at most; past this the oldest are dropped. */
const MAX_FACTS = 50_000;
/** Account reads in flight at once for one batch. */
const LOOKUP_CONCURRENCY = 32;

interface Cached {
  fact: AccountFact;
  at: number;
}

/**
 * Account facts (username, deactivated) of users, read from the account
 * store and kept for {@link ACCOUNT_FACT_TTL_MS}, so member lists and the
 * directory do not read every account on every page. A deactivation made on
 * any node shows within that time; {@link fresh} reads past the cache for
 * decisions that must be current (who may be added to a new conversation).
 */
export class AccountFacts {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly ttlMs: number = ACCOUNT_FACT_TTL_MS,
  ) {}

  /**
   * The user's account fact, read now. It is not cached: a list read after
   * a change of the account (a deactivation) must not be served an older
   * fact than the one it would read itself.
   */
  async fresh(userId: string): Promise<AccountFact> {
    const account = await this.accounts.getAccount(userId);
    return account ? { username: account.username, deactivated: account.deactivatedAt !== undefined } : { deactivated: false };
  }

  /** Facts of several users, from the cache when recent enough. */
  async of(userIds: Iterable<string>, now: number = Date.now()): Promise<Map<string, AccountFact>> {
    const facts = new Map<string, AccountFact>();
    const missing: string[] = [];
    for (const id of userIds) {
      const cached = this.cache.get(id);
      if (cached && now - cached.at < this.ttlMs) facts.set(id, cached.fact);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += LOOKUP_CONCURRENCY) {
      const batch = missing.slice(i, i + LOOKUP_CONCURRENCY);
      const read = await Promise.all(batch.map((id) => this.fresh(id)));
      batch.forEach((id, n) => {
        facts.set(id, read[n]!);
        this.remember(id, read[n]!, now);
      });
    }
    return facts;
  }

  private remember(userId: string, fact: AccountFact, now: number): void {
    this.cache.delete(userId);
    if (this.cache.size >= MAX_FACTS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(userId, { fact, at: now });
  }
}
