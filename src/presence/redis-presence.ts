import { createHash } from 'node:crypto';
import type { ClientInfo } from '../protocol/types.js';
import { NOBODY, type PresenceManager, type PresenceStats, type UserLookup } from './presence.js';
import { ADD, GET, REMOVE, STATS, USERS } from './redis-presence-scripts.js';

/** What `RedisPresence` needs of a Redis client: a connected node-redis client (`createClient()`) fits. */
export interface PresenceRedisClient {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Options of {@link RedisPresence}. */
export interface RedisPresenceOptions {
  /**
   * Prepended to every key. Deployments sharing a Redis use different
   * prefixes. It may not contain `{` or `}`: the channel is the keys' hash tag.
   * @default 'parley:presence:'
   */
  prefix?: string;
  /** The clock entries' expiries are counted on, in ms. @default Date.now */
  now?: () => number;
  /**
   * How many channels' user sets this node keeps between `users` calls
   * (the least recently read are forgotten first).
   * @default 1024
   */
  cachedUserSets?: number;
}

/** A script and its SHA1, so calls send the SHA and the body only when Redis has not seen it. */
class Script {
  readonly sha: string;
  constructor(readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }
}

const scripts = { add: new Script(ADD), remove: new Script(REMOVE), get: new Script(GET), stats: new Script(STATS), users: new Script(USERS) };

/** The set of users a node last read for a channel, named by the version token Redis gave it. */
interface UserSet {
  token: string;
  lookup: UserLookup;
}

/**
 * Presence shared by every node through Redis, in Centrifuge's layout. Per
 * channel, four keys in one hash slot (`<prefix>{<channel>}:…`, ready for
 * Redis Cluster): a HASH client id → ClientInfo JSON, a ZSET client id →
 * expiry time, a HASH user → live connections, and a small version HASH.
 * Every operation is one Lua script, so entries and counts change together.
 *
 * - **TTL.** Each script first drops the entries whose expiry has passed
 *   (ZRANGEBYSCORE), so `get` and `stats` never show them; that work is
 *   paid once per dead entry. Every key carries a PEXPIRE as long as its
 *   longest-lived entry, so an abandoned channel disappears on its own.
 *   Expiries are counted on the nodes' clocks (as Centrifuge does), which
 *   must agree to well within the TTL.
 * - **Cheap counts.** `stats` is two HLENs: O(1) beyond the expired entries.
 *   `users` keeps per channel the user set it last read and the version
 *   token Redis bumps only when a user arrives or leaves (not when another
 *   tab of a present user does); a call sends the token and gets the full
 *   set back only when it changed, so repeated calls cost O(1) and a set is
 *   transferred once per change of membership. The per-user HASH costs
 *   memory per user, in exchange for never counting users by a pass over
 *   the channel.
 * - **Read-your-writes** holds for every node: all reads go to Redis.
 *
 * The client is the caller's: `close` does not close it.
 */
export class RedisPresence implements PresenceManager {
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly maxUserSets: number;
  private readonly userSets = new Map<string, UserSet>();

  constructor(
    private readonly client: PresenceRedisClient,
    options: RedisPresenceOptions = {},
  ) {
    this.prefix = options.prefix ?? 'parley:presence:';
    if (/[{}]/.test(this.prefix)) throw new Error(`presence key prefix may not contain "{" or "}": ${JSON.stringify(this.prefix)}`);
    this.now = options.now ?? Date.now;
    this.maxUserSets = options.cachedUserSets ?? 1024;
  }

  async add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    const now = this.now();
    await this.run(scripts.add, channel, [info.client, info.user, JSON.stringify(info), String(now + ttlMs), String(Math.ceil(ttlMs))], now);
  }

  async remove(channel: string, clientId: string): Promise<void> {
    await this.run(scripts.remove, channel, [clientId]);
  }

  async get(channel: string): Promise<Map<string, ClientInfo>> {
    const flat = (await this.run(scripts.get, channel, [])) as string[];
    const entries = new Map<string, ClientInfo>();
    for (let i = 0; i < flat.length; i += 2) entries.set(flat[i]!, JSON.parse(flat[i + 1]!) as ClientInfo);
    return entries;
  }

  async stats(channel: string): Promise<PresenceStats> {
    const [numClients, numUsers] = (await this.run(scripts.stats, channel, [])) as [number, number];
    return { numClients, numUsers };
  }

  async users(channel: string): Promise<UserLookup> {
    const known = this.userSets.get(channel);
    const reply = (await this.run(scripts.users, channel, [known?.token ?? ''])) as [] | [string] | [string, string[]];
    this.userSets.delete(channel); // re-inserted below as the most recently read
    if (reply.length === 0) return NOBODY;
    const [token, users] = reply;
    const set: UserSet = users === undefined && known ? known : { token, lookup: new Set(users) };
    this.userSets.set(channel, set);
    if (this.userSets.size > this.maxUserSets) this.userSets.delete(this.userSets.keys().next().value!);
    return set.lookup;
  }

  async close(): Promise<void> {
    this.userSets.clear();
  }

  /** Runs a script on the channel's keys, loading it into Redis on first use (or after a restart emptied its script cache). */
  private async run(script: Script, channel: string, args: string[], now = this.now()): Promise<unknown> {
    const base = `${this.prefix}{${channel}}:`;
    const options = { keys: [`${base}info`, `${base}expiry`, `${base}users`, `${base}version`], arguments: [String(now), ...args] };
    try {
      return await this.client.evalSha(script.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.client.eval(script.body, options);
    }
  }
}
