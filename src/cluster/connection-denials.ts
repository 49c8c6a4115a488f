import type { Disconnect } from '../protocol/errors.js';
import { LuaScript, type ScriptRunner } from '../redis/lua-script.js';

/**
 * Users just disconnected for good by the server API, so that a connection
 * of theirs that was in the middle of connecting (on any node) while the
 * disconnect went out cannot slip past it.
 *
 * Guarantees every implementation keeps (checked by `test/contracts/connection-denials-contract.ts`):
 * - After `deny(user, disconnect, ttlMs)` resolves, `deniedWith(user)`
 *   answers that disconnect on every node, until `ttlMs` has passed; a
 *   later `deny` replaces it.
 * - Other users are not denied.
 */
export interface ConnectionDenials {
  deny(user: string, disconnect: Disconnect, ttlMs: number): Promise<void>;
  /** The disconnect a new connection of `user` gets now, or undefined when it may connect. */
  deniedWith(user: string): Promise<Disconnect | undefined>;
}

/** One process: the denials live in memory. */
export class MemoryConnectionDenials implements ConnectionDenials {
  private readonly denied = new Map<string, { disconnect: Disconnect; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async deny(user: string, disconnect: Disconnect, ttlMs: number): Promise<void> {
    const now = this.now();
    // Forgetting what has lapsed here keeps the map as small as the denials alive.
    for (const [other, { until }] of this.denied) if (until <= now) this.denied.delete(other);
    this.denied.set(user, { disconnect, until: now + ttlMs });
  }

  async deniedWith(user: string): Promise<Disconnect | undefined> {
    const entry = this.denied.get(user);
    return entry && entry.until > this.now() ? entry.disconnect : undefined;
  }
}

/** KEYS[1] the user's denial; ARGV: the disconnect JSON, ms. */
const DENY = new LuaScript(`redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`);
/** KEYS[1] the user's denial. */
const DENIED = new LuaScript(`return redis.call('get', KEYS[1])`);

/** What the Redis denials need of a client: a node-redis client fits. */
export interface DenialsRedisClient extends ScriptRunner {
  /** False while the connection is down. */
  readonly isReady: boolean;
}

/**
 * Denials shared by every node: one key per user with its TTL. While Redis
 * is unreachable nothing is denied or recorded (a connect must not wait for
 * Redis, and the denial only closes a race). The client is the caller's.
 */
export class RedisConnectionDenials implements ConnectionDenials {
  constructor(
    private readonly client: DenialsRedisClient,
    private readonly prefix = 'parley:deny:',
  ) {}

  async deny(user: string, disconnect: Disconnect, ttlMs: number): Promise<void> {
    if (!this.client.isReady) return;
    await DENY.run(this.client, [this.prefix + user], [JSON.stringify(disconnect), String(Math.ceil(ttlMs))]);
  }

  async deniedWith(user: string): Promise<Disconnect | undefined> {
    if (!this.client.isReady) return undefined;
    const value = await DENIED.run(this.client, [this.prefix + user], []);
    return typeof value === 'string' ? (JSON.parse(value) as Disconnect) : undefined;
  }
}
