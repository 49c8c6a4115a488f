import { DeltaPush, fossilPatch, type PatchMaker } from '../protocol/delta-push.js';
import { SharedPush } from '../protocol/shared-push.js';
import type { ClientInfo, Publication } from '../protocol/types.js';

/**
 * Something that receives a channel's events on this node — in practice a
 * session's subscription. `push` is the event as a push, shared by every
 * listener of the channel and encoded once per encoding for all of them
 * (see {@link SharedPush}): listeners must not modify its bytes.
 */
export interface ChannelListener {
  /**
   * The client id of the connection this listener delivers to, when it
   * delivers to one; only these count as a channel's subscribers (server
   * API `channels` and `info`), not internal listeners such as bridges.
   */
  readonly clientId?: string;
  /** Whether it sends publications delta-compressed; fixed for the listener's life. */
  readonly delta?: boolean;
  /**
   * `delta` (for delta listeners only) holds the publication's delta forms,
   * shared like `push` by every delta listener of the channel.
   */
  onPublication(channel: string, publication: Publication, push: SharedPush, delta?: DeltaPush): void;
  onJoinLeave(channel: string, push: SharedPush): void;
  /**
   * The channel's stream went on from a point this listener cannot follow in
   * order (a new epoch, or publications that could not be read): what it
   * holds is void, and it must start over from the store (a client
   * subscription is made to subscribe again).
   */
  onStreamReset?(channel: string): void;
}

/** A channel's delta listeners: how many, and the base of the next publication's patch. */
interface DeltaChannel {
  listeners: number;
  /** The last publication with an offset handed out while the channel had delta listeners. */
  previous: Publication | undefined;
}

/**
 * The local subscription index (channel → listeners) and its fan-out: each
 * event is encoded once per encoding its listeners use, and the same bytes
 * go to every listener of that encoding. For channels with delta listeners
 * it keeps the previous publication, so that the patch from it to the next
 * one is computed once per publication for all of them.
 */
export class ChannelListeners {
  private readonly byChannel = new Map<string, Set<ChannelListener>>();
  /** Publications handed out per channel with listeners: see {@link deliveries}. */
  private readonly delivered = new Map<string, number>();
  /** Only channels that have delta listeners have an entry (and keep a publication). */
  private readonly deltaChannels = new Map<string, DeltaChannel>();

  constructor(private readonly makePatch: PatchMaker = fossilPatch) {}

  /** Adds a listener; true when it is the channel's first. */
  add(channel: string, listener: ChannelListener): boolean {
    if (listener.delta) {
      const deltas = this.deltaChannels.get(channel);
      if (deltas) deltas.listeners++;
      else this.deltaChannels.set(channel, { listeners: 1, previous: undefined });
    }
    const set = this.byChannel.get(channel);
    if (set) {
      set.add(listener);
      return false;
    }
    this.byChannel.set(channel, new Set([listener]));
    return true;
  }

  /** Removes a listener; true when it was the channel's last. */
  remove(channel: string, listener: ChannelListener): boolean {
    const set = this.byChannel.get(channel);
    if (!set || !set.delete(listener)) return false;
    if (listener.delta) {
      const deltas = this.deltaChannels.get(channel);
      if (deltas && --deltas.listeners === 0) this.deltaChannels.delete(channel);
    }
    if (set.size > 0) return false;
    this.byChannel.delete(channel);
    this.delivered.delete(channel);
    return true;
  }

  /**
   * How many publications (and stream resets) the channel's listeners were
   * handed since it last had none. A store read whose result is shared
   * between listeners may be shared only while this is unchanged: a
   * listener added after a delivery must not take a position read before
   * it, or that delivery falls between the position and what it holds.
   */
  deliveries(channel: string): number {
    return this.delivered.get(channel) ?? 0;
  }

  has(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  count(channel: string): number {
    return this.byChannel.get(channel)?.size ?? 0;
  }

  publication(channel: string, publication: Publication): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    this.delivered.set(channel, this.deliveries(channel) + 1);
    const push = new SharedPush({ type: 'pub', channel, pub: publication });
    const delta = this.deltaPush(channel, publication, push);
    for (const listener of set) listener.onPublication(channel, publication, push, listener.delta ? delta : undefined);
  }

  /** The publication's delta forms, when the channel has delta listeners; it becomes the base of the next one's patch. */
  private deltaPush(channel: string, publication: Publication, plain: SharedPush): DeltaPush | undefined {
    // Most deployments have no delta subscriber at all: no lookup per publication then.
    if (this.deltaChannels.size === 0) return undefined;
    const deltas = this.deltaChannels.get(channel);
    if (!deltas) return undefined;
    const previous = deltas.previous;
    const follows = previous?.offset !== undefined && previous.offset + 1 === publication.offset && previous.epoch === publication.epoch;
    // Publications without an offset (ephemeral) are in no chain: the base stays the last one with an offset.
    if (publication.offset) deltas.previous = publication;
    return new DeltaPush(channel, publication, plain, follows ? previous : undefined, this.makePatch);
  }

  join(channel: string, info: ClientInfo): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    const push = new SharedPush({ type: 'join', channel, info });
    for (const listener of set) listener.onJoinLeave(channel, push);
  }

  leave(channel: string, info: ClientInfo): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    const push = new SharedPush({ type: 'leave', channel, info });
    for (const listener of set) listener.onJoinLeave(channel, push);
  }

  reset(channel: string): void {
    if (this.byChannel.has(channel)) this.delivered.set(channel, this.deliveries(channel) + 1);
    const deltas = this.deltaChannels.get(channel);
    if (deltas) deltas.previous = undefined;
    for (const listener of this.byChannel.get(channel) ?? []) listener.onStreamReset?.(channel);
  }

  /** Connections subscribed, per channel, for channels that have any. */
  subscriberCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [channel, set] of this.byChannel) {
      let count = 0;
      for (const listener of set) if (listener.clientId !== undefined) count++;
      if (count > 0) out.set(channel, count);
    }
    return out;
  }
}
