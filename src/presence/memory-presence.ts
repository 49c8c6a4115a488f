import type { ClientInfo } from '../protocol/types.js';
import type { PresenceManager, PresenceStats } from './presence.js';

interface Entry {
  info: ClientInfo;
  expiresAt: number;
}

/**
 * Presence for one process. Expired entries are filtered on every read and
 * swept periodically so memory follows the live population.
 */
export class MemoryPresence implements PresenceManager {
  private readonly channels = new Map<string, Map<string, Entry>>();
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
    let entries = this.channels.get(channel);
    if (!entries) {
      entries = new Map();
      this.channels.set(channel, entries);
    }
    entries.set(info.client, { info, expiresAt: this.now() + ttlMs });
  }

  async remove(channel: string, clientId: string): Promise<void> {
    const entries = this.channels.get(channel);
    if (!entries) return;
    entries.delete(clientId);
    if (entries.size === 0) this.channels.delete(channel);
  }

  async get(channel: string): Promise<Map<string, ClientInfo>> {
    const result = new Map<string, ClientInfo>();
    for (const [clientId, entry] of this.live(channel)) result.set(clientId, entry.info);
    return result;
  }

  async stats(channel: string): Promise<PresenceStats> {
    let numClients = 0;
    const users = new Set<string>();
    for (const [, entry] of this.live(channel)) {
      numClients++;
      users.add(entry.info.user);
    }
    return { numClients, numUsers: users.size };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.channels.clear();
  }

  private *live(channel: string): Iterable<[string, Entry]> {
    const entries = this.channels.get(channel);
    if (!entries) return;
    const now = this.now();
    for (const item of entries) if (item[1].expiresAt > now) yield item;
  }

  private sweep(): void {
    const now = this.now();
    for (const [channel, entries] of this.channels) {
      for (const [clientId, entry] of entries) if (entry.expiresAt <= now) entries.delete(clientId);
      if (entries.size === 0) this.channels.delete(channel);
    }
  }
}
