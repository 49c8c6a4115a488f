/**
 * Limits on how often one client address may call an endpoint that creates
 * identities or tokens (guest sign-in, token renewal, `POST /auth`).
 *
 * A token bucket per address rather than a fixed count per minute: everyone
 * behind one office NAT arriving at 9:00 shares an address, and a burst the
 * size of such an office must get in, while a flood from one address is cut
 * down to the sustained rate.
 */
import { RateLimiter } from '../session/rate-limiter.js';

/** A limit per address: `burst` requests at once, refilled at `perMinute`. */
export interface AddressLimitOptions {
  /** Requests one address may make at once. */
  burst: number;
  /** Requests per minute one address may sustain. */
  perMinute: number;
  /** Addresses remembered at most. @default 100000 */
  maxAddresses?: number;
}

/** What a limiter decides for one request. */
export type AddressLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Decides, per client address, whether one more request may go ahead; when not, when the next one may. */
export interface AddressLimiter {
  take(address: string): AddressLimitDecision | Promise<AddressLimitDecision>;
}

/**
 * The limits that use a limiter; limiters of different names never share
 * buckets. `password-account` counts per username key rather than per address.
 */
export type AddressLimitName = 'sign-in' | 'token-refresh' | 'seed-auth' | 'password' | 'password-account';

/** Makes the limiter of a named limit: in memory by default, shared by every node in a cluster. */
export type AddressLimiters = (name: AddressLimitName, options: AddressLimitOptions) => AddressLimiter;

/** Each node counts on its own. */
export const memoryAddressLimiters: AddressLimiters = (_name, options) => new AddressLimit(options);

/**
 * Counts an HTTP request: when refused, sets `Retry-After` (whole seconds)
 * on the reply and resolves with the wait; undefined when allowed.
 */
export async function admit(limiter: AddressLimiter, address: string, reply: { header(name: string, value: string): unknown }): Promise<number | undefined> {
  const decision = await limiter.take(address);
  if (decision.allowed) return undefined;
  reply.header('retry-after', String(decision.retryAfterSeconds));
  return decision.retryAfterSeconds;
}

/**
 * One token bucket per address. Memory is bounded: past `maxAddresses`,
 * addresses whose bucket is full again are forgotten (they lose nothing),
 * and if every bucket is still draining they are all forgotten (a flood of
 * distinct addresses would defeat a per-address limit anyway).
 */
export class AddressLimit implements AddressLimiter {
  private readonly buckets = new Map<string, RateLimiter>();
  private readonly ratePerSecond: number;
  private readonly maxAddresses: number;

  constructor(
    private readonly options: AddressLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.ratePerSecond = options.perMinute / 60;
    this.maxAddresses = options.maxAddresses ?? 100_000;
  }

  /** Counts a request from `address`; when refused, says in how many whole seconds the next one is allowed (at least 1). */
  take(address: string): AddressLimitDecision {
    let bucket = this.buckets.get(address);
    if (!bucket) {
      if (this.buckets.size >= this.maxAddresses) this.prune();
      bucket = new RateLimiter(this.ratePerSecond, this.options.burst, this.now);
      this.buckets.set(address, bucket);
    }
    if (bucket.take()) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(bucket.msUntilNext() / 1000)) };
  }

  private prune(): void {
    for (const [address, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(address);
    if (this.buckets.size >= this.maxAddresses) this.buckets.clear();
  }
}

/** "try again in 3 seconds", for the message of a 429 answer. */
export function tryAgainIn(seconds: number): string {
  return `try again in ${seconds} second${seconds === 1 ? '' : 's'}`;
}
