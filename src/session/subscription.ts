import type { ChannelSpec } from '../channel/channel.js';
import type { ChannelListener } from '../node/node.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import type { Transport } from '../transport/transport.js';

/** Events held while the subscribe reply is being prepared, before the client can accept them. */
const MAX_HELD_EVENTS = 10_000;

interface HeldEvent {
  offset: number;
  frame: Buffer;
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
  private held: HeldEvent[] | undefined = [];
  private heldBytes = 0;
  /** Set when more arrived before the reply than may be held: all of them were dropped. */
  private overflowed = false;
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
    private readonly transport: Transport,
    /**
     * Bytes of events that may be held before the reply; past them (or past
     * {@link MAX_HELD_EVENTS} events) every held event is dropped and
     * {@link goLive} reports the overflow.
     */
    private readonly maxHeldBytes: number,
  ) {}

  get clientId(): string {
    return this.info.client;
  }

  get live(): boolean {
    return this.held === undefined;
  }

  onPublication(_channel: string, publication: Publication, frame: Buffer): void {
    const offset = publication.offset ?? 0;
    if (this.held) {
      this.hold({ offset, frame });
      return;
    }
    this.deliver(offset, frame);
  }

  onJoinLeave(_channel: string, frame: Buffer): void {
    if (this.held) this.hold({ offset: 0, frame });
    else this.transport.send(frame);
  }

  /**
   * Call right after the subscribe reply was sent. `offset` is the top the
   * reply reported (publications up to it were in the reply or predate the
   * subscription); held events at or below it are dropped, the rest are
   * sent in arrival order, and delivery goes live: `'live'`.
   *
   * `'overflowed'` when more events arrived meanwhile than could be held (a
   * long recovery read under a busy channel): none of them is sent and the
   * subscription stays closed to events; the caller ends it and has the
   * client subscribe again from `offset`, recovering them from history.
   * Holding them all instead would let one subscribe take unbounded memory,
   * and sending them in one burst would count as a reader falling behind.
   */
  goLive(offset: number): GoLiveOutcome {
    if (this.overflowed) return 'overflowed';
    this.lastOffset = offset;
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    for (const event of held) this.deliver(event.offset, event.frame);
    return 'live';
  }

  private deliver(offset: number, frame: Buffer): void {
    if (offset > 0) {
      if (offset <= this.lastOffset) return;
      this.lastOffset = offset;
    }
    this.transport.send(frame);
  }

  private hold(event: HeldEvent): void {
    if (this.overflowed) return;
    const held = this.held as HeldEvent[];
    this.heldBytes += event.frame.length;
    if (held.length >= MAX_HELD_EVENTS || this.heldBytes > this.maxHeldBytes) {
      this.overflowed = true;
      this.held = [];
      this.heldBytes = 0;
      return;
    }
    held.push(event);
  }
}
