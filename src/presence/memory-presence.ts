import type { ClientInfo } from '../protocol/types.js';
import { NOBODY, type PresenceManager, type PresenceStats, type UserLookup } from './presence.js';

interface Entry {
  info: ClientInfo;
  expiresAt: number;
}

/** One channel's entries, with the counts kept as entries come and go. */
interface ChannelPresence {
  entries: Map<string, Entry>;
  /** Live entries per user: its size is the number of users present. */
  users: Map<string, number>;
  /** No entry expires before this time (a lower bound: refreshes only move expiries later). */
  earliestExpiry: number;
}

/**
 * Presence for one process. Counts per user are kept as entries are added
 * and removed, so `stats` and `users` cost O(1); expired entries are dropped
 * when a read finds that the channel's earliest expiry has passed (a pass
 * over that channel, at most once per TTL period while entries are
 * refreshed), and swept periodically so memory follows the live population.
 */
export class MemoryPresence implements PresenceManager {
  private readonly channels = new Map<string, ChannelPresence>();
  private readonly sweeper: NodeJS.Timeout;

  /** @param now clock, replaceable so the TTL contract can be tested without sleeping long. */
  constructor(
    private readonly now: () => number = Date.now,
    sweepIntervalMs = 30_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  async add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    let presence = this.channels.get(channel);
    if (!presence) {
      presence = { entries: new Map(), users: new Map(), earliestExpiry: Infinity };
      this.channels.set(channel, presence);
    }
    const expiresAt = this.now() + ttlMs;
    const previous = presence.entries.get(info.client);
    if (previous) {
      // A refresh: the same entry lives longer (its user cannot change, but stay exact if it does).
      if (previous.info.user !== info.user) {
        release(presence, previous.info.user);
        hold(presence, info.user);
      }
      previous.info = info;
      previous.expiresAt = expiresAt;
    } else {
      presence.entries.set(info.client, { info, expiresAt });
      hold(presence, info.user);
    }
    if (expiresAt < presence.earliestExpiry) presence.earliestExpiry = expiresAt;
  }

  async remove(channel: string, clientId: string): Promise<void> {
    const presence = this.channels.get(channel);
    const entry = presence?.entries.get(clientId);
    if (!presence || !entry) return;
    presence.entries.delete(clientId);
    release(presence, entry.info.user);
    if (presence.entries.size === 0) this.channels.delete(channel);
  }

  async get(channel: string): Promise<Map<string, ClientInfo>> {
    const result = new Map<string, ClientInfo>();
    const presence = this.live(channel);
    if (presence) for (const [clientId, entry] of presence.entries) result.set(clientId, entry.info);
    return result;
  }

  async stats(channel: string): Promise<PresenceStats> {
    const presence = this.live(channel);
    return presence ? { numClients: presence.entries.size, numUsers: presence.users.size } : { numClients: 0, numUsers: 0 };
  }

  async users(channel: string): Promise<UserLookup> {
    return this.live(channel)?.users ?? NOBODY;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.channels.clear();
  }

  /** The channel's presence with every expired entry dropped; undefined when nobody is left. */
  private live(channel: string): ChannelPresence | undefined {
    const presence = this.channels.get(channel);
    if (!presence) return undefined;
    const now = this.now();
    if (now < presence.earliestExpiry) return presence;
    this.expire(channel, presence, now);
    return this.channels.get(channel);
  }

  private expire(channel: string, presence: ChannelPresence, now: number): void {
    let earliest = Infinity;
    for (const [clientId, entry] of presence.entries) {
      if (entry.expiresAt <= now) {
        presence.entries.delete(clientId);
        release(presence, entry.info.user);
      } else if (entry.expiresAt < earliest) {
        earliest = entry.expiresAt;
      }
    }
    presence.earliestExpiry = earliest;
    if (presence.entries.size === 0) this.channels.delete(channel);
  }

  private sweep(): void {
    const now = this.now();
    for (const [channel, presence] of this.channels) if (now >= presence.earliestExpiry) this.expire(channel, presence, now);
  }
}

function hold(presence: ChannelPresence, user: string): void {
  presence.users.set(user, (presence.users.get(user) ?? 0) + 1);
}

function release(presence: ChannelPresence, user: string): void {
  const count = (presence.users.get(user) ?? 0) - 1;
  if (count > 0) presence.users.set(user, count);
  else presence.users.delete(user);
}
