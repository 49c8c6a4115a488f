/**
 * The per-address limit of sign-in and token requests, shared by every node
 * through Redis: one token bucket per address for the whole deployment.
 */
import type { Logger } from '../log/logger.js';
import { LuaScript, type ScriptRunner } from '../redis/lua-script.js';
import { AddressLimit, type AddressLimitDecision, type AddressLimiter, type AddressLimiters, type AddressLimitOptions } from './address-limit.js';

/** What the shared limit needs of a Redis client: a node-redis client fits. */
export interface LimitRedisClient extends ScriptRunner {
  /** False while the connection is down: the limit then falls back to this node's memory instead of waiting. */
  readonly isReady: boolean;
}

/**
 * KEYS[1] the address's bucket HASH (tokens, at); ARGV: tokens per ms,
 * burst. Takes a token; replies 0, or the ms until one is available. Time
 * is Redis's, so nodes' clocks do not matter; an idle bucket expires once
 * it would be full again (it then costs nothing to forget).
 */
const TAKE = new LuaScript(`
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('hmget', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('hset', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('pexpire', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
return wait
`);

export interface SharedAddressLimitOptions extends AddressLimitOptions {
  /** Names this limit's buckets, e.g. `sign-in`; limits sharing a name share buckets. */
  name: string;
  /** Prepended to every key. @default 'parley:limit:' */
  prefix?: string;
  logger?: Logger;
}

/**
 * An {@link AddressLimit} whose buckets live in Redis, so N nodes together
 * allow each address `burst` at once and `perMinute` sustained, not N times
 * that. While Redis is unreachable (or a call fails) each node falls back to
 * its own memory buckets: the effective limit is then up to N× per node
 * until Redis is back. The client is the caller's.
 */
export class SharedAddressLimit implements AddressLimiter {
  private readonly fallback: AddressLimit;
  private readonly prefix: string;
  private readonly ratePerMs: number;

  constructor(
    private readonly client: LimitRedisClient,
    private readonly options: SharedAddressLimitOptions,
  ) {
    this.fallback = new AddressLimit(options);
    this.prefix = `${options.prefix ?? 'parley:limit:'}${options.name}:`;
    this.ratePerMs = options.perMinute / 60_000;
  }

  /** Counts a request from `address`; when refused, says in how many whole seconds the next one is allowed (at least 1). */
  async take(address: string): Promise<AddressLimitDecision> {
    if (!this.client.isReady) return this.fallback.take(address);
    try {
      const wait = Number(await TAKE.run(this.client, [`${this.prefix}${address}`], [String(this.ratePerMs), String(this.options.burst)]));
      return wait === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
    } catch (error) {
      this.options.logger?.warn({ err: error, limit: this.options.name }, 'shared rate limit unavailable: limiting on this node alone');
      return this.fallback.take(address);
    }
  }
}

/** Limiters shared through Redis, one bucket set per limit name; for `ServerParts.addressLimiters`. */
export function sharedAddressLimiters(client: LimitRedisClient, options: { prefix?: string; logger?: Logger } = {}): AddressLimiters {
  return (name, limit) => new SharedAddressLimit(client, { ...limit, ...options, name });
}
