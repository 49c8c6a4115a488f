import type { Broker } from '../broker/broker.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Logger } from '../log/logger.js';
import type { PresenceManager, PresenceStats, UserLookup } from '../presence/presence.js';
import { Errors } from '../protocol/errors.js';
import type { ClientInfo } from '../protocol/types.js';

/** How long a presence entry lives without refresh; refreshed every third of it. */
const PRESENCE_TTL_MS = 60_000;
/**
 * A channel whose join/leave events stopped (above `joinLeaveMaxClients`)
 * gets them again at or below this share of the limit: the gap keeps a
 * channel hovering at the limit from switching on every join and leave.
 */
const JOIN_LEAVE_RESUME_RATIO = 0.8;

export interface ChannelPresenceOptions {
  presence: PresenceManager;
  broker: Broker;
  logger: Logger;
  /** Largest presence a `presence` request lists (`presenceMaxClients`). */
  maxListed: number;
  /** This node's subscribers of a channel: the count for join/leave limits of channels without presence. */
  localSubscribers: (channel: string) => number;
}

/**
 * One node's side of presence: records its clients in the presence manager
 * (refreshing them within the TTL), announces joins and leaves, and keeps
 * both bounded in big channels.
 *
 * - Join and leave events are pushed only while a channel is small: above
 *   its namespace's `joinLeaveMaxClients` connections they stop, and they
 *   resume at or below {@link JOIN_LEAVE_RESUME_RATIO} of it. Without this a
 *   crowd of n joining clients costs n² pushes (50 million for 10,000).
 * - Listing every entry is refused above `presenceMaxClients` (error 106);
 *   counts (`stats`) and user lookups stay exact and cost O(1).
 */
export class ChannelPresence {
  private readonly presence: PresenceManager;
  private readonly broker: Broker;
  private readonly logger: Logger;
  private readonly maxListed: number;
  private readonly localSubscribers: (channel: string) => number;
  /** This node's clients per channel, to refresh their entries. */
  private readonly local = new Map<string, Map<string, ClientInfo>>();
  /** Channels with `joinLeave` whose join and leave events are not pushed now: they are above `joinLeaveMaxClients`. */
  private readonly quiet = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: ChannelPresenceOptions) {
    this.presence = options.presence;
    this.broker = options.broker;
    this.logger = options.logger;
    this.maxListed = options.maxListed;
    this.localSubscribers = options.localSubscribers;
  }

  /** Starts refreshing this node's entries. */
  start(): void {
    this.timer = setInterval(() => void this.refresh(), PRESENCE_TTL_MS / 3);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Records a client in a channel's presence and announces it, as the namespace asks. */
  async join(channel: ChannelSpec, info: ClientInfo): Promise<void> {
    if (channel.options.presence) {
      let local = this.local.get(channel.name);
      if (!local) {
        local = new Map();
        this.local.set(channel.name, local);
      }
      local.set(info.client, info);
      await this.presence.add(channel.name, info, PRESENCE_TTL_MS);
    }
    if (channel.options.joinLeave && (await this.announces(channel))) await this.broker.publishJoin(channel.name, info);
  }

  /** Removes a client from a channel's presence and announces it, as the namespace asks. */
  async leave(channel: ChannelSpec, info: ClientInfo): Promise<void> {
    if (channel.options.presence) {
      const local = this.local.get(channel.name);
      if (local) {
        local.delete(info.client);
        if (local.size === 0) this.local.delete(channel.name);
      }
      await this.presence.remove(channel.name, info.client);
    }
    if (channel.options.joinLeave && (await this.announces(channel))) await this.broker.publishLeave(channel.name, info);
  }

  /** @throws ProtocolError 108 when the channel keeps no presence; 106 when it has more than `presenceMaxClients` entries. */
  async list(channel: ChannelSpec): Promise<Map<string, ClientInfo>> {
    const { numClients } = await this.stats(channel);
    if (numClients > this.maxListed) {
      throw Errors.limitExceeded(
        `this channel has ${numClients} clients present, more than the ${this.maxListed} a presence request lists: ` +
          'read presence_stats for counts, or a paged list such as chat.members',
      );
    }
    return this.presence.get(channel.name);
  }

  /** @throws ProtocolError 108 when the channel keeps no presence. */
  async stats(channel: ChannelSpec): Promise<PresenceStats> {
    return this.presence.stats(enabled(channel).name);
  }

  /** The users present, as an O(1) lookup. @throws ProtocolError 108 when the channel keeps no presence. */
  async users(channel: ChannelSpec): Promise<UserLookup> {
    return this.presence.users(enabled(channel).name);
  }

  /** Whether join and leave events are pushed to the channel's subscribers now. */
  live(channel: ChannelSpec): boolean {
    return channel.options.joinLeave && !this.quiet.has(channel.name);
  }

  /**
   * Whether a join or leave that just changed a channel's presence is to be
   * pushed; switches the channel's events off above its limit and on again
   * at or below the resume share. Counts come from presence (every node's
   * connections) or, without presence, from this node's subscribers.
   */
  private async announces(channel: ChannelSpec): Promise<boolean> {
    const clients = channel.options.presence
      ? (await this.presence.stats(channel.name)).numClients
      : this.localSubscribers(channel.name);
    const max = channel.options.joinLeaveMaxClients;
    if (this.quiet.has(channel.name)) {
      if (clients > Math.floor(max * JOIN_LEAVE_RESUME_RATIO)) return false;
      this.quiet.delete(channel.name);
      return true;
    }
    if (clients <= max) return true;
    this.quiet.add(channel.name);
    return false;
  }

  /** Re-adds every entry of this node's clients (on schedule, and at once when presence may have lost them). */
  async refresh(): Promise<void> {
    const adds: Array<Promise<void>> = [];
    for (const [channel, entries] of this.local) {
      for (const info of entries.values()) {
        adds.push(
          this.presence.add(channel, info, PRESENCE_TTL_MS).catch((error: unknown) => {
            this.logger.error({ err: error, channel }, 'presence refresh failed');
          }),
        );
      }
    }
    await Promise.all(adds);
  }
}

function enabled(channel: ChannelSpec): ChannelSpec {
  if (!channel.options.presence) throw Errors.notAvailable('presence is not enabled for this channel');
  return channel;
}
