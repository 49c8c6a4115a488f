import type { ClientInfo } from '../protocol/types.js';
import { LuaScript as Script, type ScriptRunner } from '../redis/lua-script.js';
import type { PresenceLedger } from './presence-ledger.js';
import { NOBODY, type PresenceManager, type PresenceStats, type UserLookup } from './presence.js';
import { ADD, GET, LEDGER_CLAIM, LEDGER_ENTRIES, LEDGER_FORGET, REMOVE, STATS, USERS } from './redis-presence-scripts.js';

/** What `RedisPresence` needs of a Redis client: a connected node-redis client (`createClient()`) fits. */
export interface PresenceRedisClient extends ScriptRunner {
  /** node-redis's connection events; without them `onReconnect` listeners never run. */
  on?(event: 'reconnecting' | 'ready', listener: () => void): unknown;
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
  /**
   * This node's id in the cluster: every entry it adds is recorded in its
   * ledger (see {@link PresenceLedger}), so a survivor can purge them if it
   * dies. The ledger is a key outside the channel's hash slot: with this
   * option, presence needs a single Redis (not Redis Cluster).
   */
  node?: string;
}

const scripts = {
  add: new Script(ADD),
  remove: new Script(REMOVE),
  get: new Script(GET),
  stats: new Script(STATS),
  users: new Script(USERS),
  ledgerEntries: new Script(LEDGER_ENTRIES),
  ledgerClaim: new Script(LEDGER_CLAIM),
  ledgerForget: new Script(LEDGER_FORGET),
};

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
 * - **Ledger.** With the `node` option, each node's entries are recorded
 *   per node by the same script that writes them ({@link PresenceLedger}).
 *
 * The client is the caller's: `close` does not close it.
 */
export class RedisPresence implements PresenceManager, PresenceLedger {
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly maxUserSets: number;
  private readonly userSets = new Map<string, UserSet>();
  private readonly node: string | undefined;
  private reconnecting = false;

  constructor(
    private readonly client: PresenceRedisClient,
    options: RedisPresenceOptions = {},
  ) {
    this.prefix = options.prefix ?? 'parley:presence:';
    if (/[{}]/.test(this.prefix)) throw new Error(`presence key prefix may not contain "{" or "}": ${JSON.stringify(this.prefix)}`);
    this.now = options.now ?? Date.now;
    this.maxUserSets = options.cachedUserSets ?? 1024;
    this.node = options.node;
  }

  async add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    const now = this.now();
    const args = [info.client, info.user, JSON.stringify(info), String(now + ttlMs), String(Math.ceil(ttlMs)), ledgerMember(channel, info.client)];
    await this.run(scripts.add, channel, args, now);
  }

  async remove(channel: string, clientId: string): Promise<void> {
    await this.run(scripts.remove, channel, [clientId, ledgerMember(channel, clientId)]);
  }

  async claim(node: string, ttlMs: number): Promise<boolean> {
    const claimant = this.node ?? '';
    return (await this.eval(scripts.ledgerClaim, [`${this.prefix}purge:${node}`], [claimant, String(Math.ceil(ttlMs))])) === 1;
  }

  async entriesOf(node: string): Promise<Array<{ channel: string; info: ClientInfo }>> {
    const flat = (await this.eval(scripts.ledgerEntries, [this.ledgerKey(node)], [this.prefix])) as string[];
    const entries: Array<{ channel: string; info: ClientInfo }> = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ channel: flat[i]!, info: JSON.parse(flat[i + 1]!) as ClientInfo });
    return entries;
  }

  async forget(node: string, entries: ReadonlyArray<{ channel: string; info: ClientInfo }>): Promise<void> {
    if (entries.length === 0) return;
    await this.eval(scripts.ledgerForget, [this.ledgerKey(node)], entries.map((e) => ledgerMember(e.channel, e.info.client)));
  }

  onReconnect(listener: () => void): void {
    this.client.on?.('reconnecting', () => {
      this.reconnecting = true;
    });
    this.client.on?.('ready', () => {
      if (!this.reconnecting) return;
      this.reconnecting = false;
      listener();
    });
  }

  private ledgerKey(node: string): string {
    return `${this.prefix}node:${node}:entries`;
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

  /** Runs a script on the channel's keys (and this node's ledger, when it keeps one). */
  private run(script: Script, channel: string, args: string[], now = this.now()): Promise<unknown> {
    const base = `${this.prefix}{${channel}}:`;
    const keys = [`${base}info`, `${base}expiry`, `${base}users`, `${base}version`];
    if (this.node !== undefined) keys.push(this.ledgerKey(this.node));
    return this.eval(script, keys, [String(now), ...args]);
  }

  private eval(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return script.run(this.client, keys, args);
  }
}

/** How an entry is named in a node's ledger. */
function ledgerMember(channel: string, client: string): string {
  return JSON.stringify([channel, client]);
}
