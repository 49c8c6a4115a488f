import type { ChannelSpec } from '../channel/channel.js';
import type { ChannelListener } from '../node/node.js';
import type { Codec } from '../protocol/codec.js';
import type { DeltaPush } from '../protocol/delta-push.js';
import type { SharedPush } from '../protocol/shared-push.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import type { Transport } from '../transport/transport.js';

/** Where and how a subscription delivers: the session's transport, in the session's encoding. */
export interface SubscriptionOutput {
  readonly transport: Transport;
  readonly codec: Codec;
  /** Whether publications go delta-compressed (negotiated by the subscribe). */
  readonly delta?: boolean;
}

/**
 * What all subscriptions of one session may hold at once while their
 * subscribe replies are prepared: one budget for the session, so that many
 * subscriptions made together (a token's `channels`) hold no more than one
 * would, and delivering what they held stays within the push bound.
 */
export class HoldBudget {
  private bytes = 0;
  private events = 0;

  /**
   * @param maxBytes bytes of events that may be held at once
   * @param maxEvents events that may be held at once
   */
  constructor(
    private readonly maxBytes: number,
    readonly maxEvents: number,
  ) {}

  /** Takes room for one event; false (taking nothing) when it does not fit. */
  take(bytes: number): boolean {
    if (this.events >= this.maxEvents || this.bytes + bytes > this.maxBytes) return false;
    this.bytes += bytes;
    this.events++;
    return true;
  }

  /** Gives back room taken for events that were delivered or dropped. */
  release(bytes: number, events: number): void {
    this.bytes -= bytes;
    this.events -= events;
  }
}

interface HeldEvent {
  offset: number;
  frame: Buffer;
  /** A publication (whole, in a delta subscription), rather than a join or leave. */
  publication: boolean;
}

/** What {@link Subscription.goLive} did. */
export type GoLiveOutcome = 'live' | 'overflowed';

/**
 * One channel subscription of one session, and the guard that makes
 * delivery exact: the client drops pushes for a channel until its subscribe
 * reply arrives, and a recovering client must see each missed publication
 * once, in order. So, until {@link goLive}, events are held; after it, any
 * publication at or below the last delivered offset is a duplicate and is
 * skipped.
 */
export class Subscription implements ChannelListener {
  /** The highest offset the client has (or will have, from the reply). */
  private lastOffset = 0;
  /**
   * In a delta subscription, the offset of the last publication sent in it,
   * whose payload the client patches next; 0 when the client has no base
   * (nothing sent yet, or the last publication sent had no offset).
   */
  private deltaBase = 0;
  private held: HeldEvent[] | undefined = [];
  private heldBytes = 0;
  /** Set when more arrived before the reply than may be held (or the stream was reset meanwhile): all of them were dropped. */
  private overflowed = false;
  /** Set when the stream was reset after the reply: nothing more is sent. */
  private stopped = false;
  /** Unix seconds at which a subscription token expires, if any. */
  expiresAt: number | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Whether the client joined the channel's presence (so leave must follow). */
  joined = false;

  constructor(
    readonly channel: ChannelSpec,
    /** The client's identity in this channel (with `chan_info` from a subscription token). */
    readonly info: ClientInfo,
    /** Whether a subscription token granted it (so `sub_refresh` applies). */
    readonly viaToken: boolean,
    /** Whether the server subscribed the client (token `channels` claim). */
    readonly serverSide: boolean,
    private readonly output: SubscriptionOutput,
    /**
     * The session's room for events held before the reply; an event that
     * does not fit drops every event this subscription holds, and
     * {@link goLive} reports the overflow.
     */
    private readonly budget: HoldBudget,
    /**
     * Called when the channel's stream was reset after the reply: the
     * subscription has stopped delivering and the client must subscribe again.
     */
    private readonly onReset: (subscription: Subscription) => void = () => undefined,
  ) {}

  get clientId(): string {
    return this.info.client;
  }

  get live(): boolean {
    return this.held === undefined;
  }

  get delta(): boolean {
    return this.output.delta === true;
  }

  /**
   * In a delta subscription, a publication goes as a patch only when it
   * follows the one sent last; held ones (the client's base is not known
   * until the reply) go whole.
   */
  onPublication(_channel: string, publication: Publication, push: SharedPush, delta?: DeltaPush): void {
    const offset = publication.offset ?? 0;
    const { codec } = this.output;
    if (this.held) {
      this.hold({ offset, frame: delta ? delta.full(codec) : push.bytes(codec), publication: true });
      return;
    }
    if (!this.accepts(offset)) return;
    const frame = delta ? delta.after(this.deltaBase, codec) : push.bytes(codec);
    this.deltaBase = offset;
    this.output.transport.send(frame);
  }

  onJoinLeave(_channel: string, push: SharedPush): void {
    const frame = push.bytes(this.output.codec);
    if (this.held) this.hold({ offset: 0, frame, publication: false });
    else if (!this.stopped) this.output.transport.send(frame);
  }

  /**
   * The client's position is void. Before the reply this counts as an
   * overflow ({@link goLive} reports it, so the client subscribes again);
   * after it, delivery stops and the owner is told.
   */
  onStreamReset(): void {
    if (this.held) {
      this.overflowed = true;
      this.release();
      return;
    }
    if (this.stopped) return;
    this.stopped = true;
    this.onReset(this);
  }

  /**
   * Call right after the subscribe reply was sent. `offset` is the top the
   * reply reported (publications up to it were in the reply or predate the
   * subscription); held events at or below it are dropped, the rest are
   * sent in arrival order, and delivery goes live: `'live'`. `deltaBase` is
   * the offset of the last publication the reply (or the pushes before it)
   * gave a delta subscription whole or patched, 0 for none.
   *
   * `'overflowed'` when more events arrived meanwhile than could be held (a
   * long recovery read under a busy channel): none of them is sent and the
   * subscription stays closed to events; the caller ends it and has the
   * client subscribe again from `offset`, recovering them from history.
   * Holding them all instead would let one subscribe take unbounded memory,
   * and sending them in one burst would count as a reader falling behind.
   */
  goLive(offset: number, deltaBase = 0): GoLiveOutcome {
    if (this.overflowed) return 'overflowed';
    this.lastOffset = offset;
    this.deltaBase = deltaBase;
    const held = this.held ?? [];
    this.release();
    this.held = undefined;
    for (const event of held) {
      if (!this.accepts(event.offset)) continue;
      if (event.publication) this.deltaBase = event.offset;
      this.output.transport.send(event.frame);
    }
    return 'live';
  }

  /** Whether an event with this offset (0: none) is sent: not after a reset, and no publication twice. */
  private accepts(offset: number): boolean {
    if (this.stopped) return false;
    if (offset > 0) {
      if (offset <= this.lastOffset) return false;
      this.lastOffset = offset;
    }
    return true;
  }

  /**
   * Ends the subscription's claim on the session's hold budget; call when it
   * ends before going live, or its held events would keep the room taken.
   */
  release(): void {
    if (this.held) this.budget.release(this.heldBytes, this.held.length);
    this.heldBytes = 0;
    if (this.held && this.held.length > 0) this.held = [];
  }

  private hold(event: HeldEvent): void {
    if (this.overflowed) return;
    if (!this.budget.take(event.frame.length)) {
      this.overflowed = true;
      this.release();
      return;
    }
    (this.held as HeldEvent[]).push(event);
    this.heldBytes += event.frame.length;
  }
}
