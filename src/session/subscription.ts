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
    /** Called when events pile up beyond reason before the reply (a stuck subscribe). */
    private readonly onOverflow: () => void,
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
   * sent in arrival order.
   */
  goLive(offset: number): void {
    this.lastOffset = offset;
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.deliver(event.offset, event.frame);
  }

  private deliver(offset: number, frame: Buffer): void {
    if (offset > 0) {
      if (offset <= this.lastOffset) return;
      this.lastOffset = offset;
    }
    this.transport.send(frame);
  }

  private hold(event: HeldEvent): void {
    const held = this.held as HeldEvent[];
    if (held.length >= MAX_HELD_EVENTS) {
      this.onOverflow();
      return;
    }
    held.push(event);
  }
}
