import type { Logger } from '../log/logger.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import type { Broker, BrokerHandler } from './broker.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';

/** What `RedisBroker` needs of its command client: a connected node-redis client (`createClient()`) fits. */
export interface BrokerPublisherClient {
  publish(channel: string, message: string): Promise<number>;
}

/** A Redis channel message listener, as node-redis calls it. */
export type RedisMessageListener = (message: string, channel: string) => void;

/**
 * What `RedisBroker` needs of its subscriber: a connected node-redis client
 * used for nothing else (`client.duplicate()`), which resubscribes on its
 * own after a reconnect and then emits `ready`.
 */
export interface BrokerSubscriberClient {
  subscribe(channel: string, listener: RedisMessageListener): Promise<void>;
  unsubscribe(channel: string, listener: RedisMessageListener): Promise<void>;
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  /**
   * Prepended to every Redis channel name. Deployments sharing a Redis use
   * different prefixes.
   * @default 'parley:broker:'
   */
  prefix?: string;
  /** Where dropped messages and handler faults are reported. */
  logger: Logger;
}

/**
 * Carries events between nodes over Redis PUB/SUB: one Redis channel per
 * Parley channel (`<prefix><channel>`), each event one compact envelope
 * (see `envelope.ts`).
 *
 * - **Order.** Every publish of a node goes through its one command
 *   connection and every delivery through one subscriber connection, so a
 *   channel's events reach each node in the order the publishing node
 *   issued them.
 * - **At most once, and lossy.** PUB/SUB keeps nothing: events published
 *   while the subscriber is disconnected, or when a PUBLISH fails, are lost.
 *   node-redis reconnects and resubscribes by itself; once it is ready
 *   again the handler's `onResync` is called so the node catches up from
 *   the store. A publish that fails rejects; the caller decides whether the
 *   store already holds it (then repair delivers it).
 * - **Interest.** `subscribe` resolves once Redis acknowledged SUBSCRIBE.
 * - A message that is not a valid envelope (another program on the same
 *   prefix, a different version) is logged and dropped.
 *
 * The clients belong to the caller, who connects them before and quits them
 * after; `close` only gives up this broker's subscriptions.
 */
export class RedisBroker implements Broker {
  private handler: BrokerHandler | undefined;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly channels = new Set<string>();
  private closed = false;
  private readonly listener: RedisMessageListener = (message, redisChannel) => this.receive(message, redisChannel);
  private readonly onReady = () => this.handler?.onResync();

  constructor(
    private readonly publisher: BrokerPublisherClient,
    private readonly subscriber: BrokerSubscriberClient,
    options: RedisBrokerOptions,
  ) {
    this.prefix = options.prefix ?? 'parley:broker:';
    this.logger = options.logger;
    // The subscriber is ready when this broker is made, so every later `ready` follows a reconnect.
    this.subscriber.on('ready', this.onReady);
  }

  setHandler(handler: BrokerHandler): void {
    this.handler = handler;
  }

  async publish(channel: string, publication: Publication): Promise<void> {
    await this.send(channel, encodeEnvelope({ kind: 'publication', publication }));
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    await this.send(channel, encodeEnvelope({ kind: 'join', info }));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    await this.send(channel, encodeEnvelope({ kind: 'leave', info }));
  }

  async subscribe(channel: string): Promise<void> {
    this.assertOpen();
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    try {
      await this.subscriber.subscribe(this.prefix + channel, this.listener);
    } catch (error) {
      this.channels.delete(channel);
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.assertOpen();
    if (!this.channels.delete(channel)) return;
    await this.subscriber.unsubscribe(this.prefix + channel, this.listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.off('ready', this.onReady);
    const channels = [...this.channels];
    this.channels.clear();
    await Promise.allSettled(channels.map((channel) => this.subscriber.unsubscribe(this.prefix + channel, this.listener)));
  }

  private async send(channel: string, envelope: string): Promise<void> {
    this.assertOpen();
    await this.publisher.publish(this.prefix + channel, envelope);
  }

  private receive(message: string, redisChannel: string): void {
    if (this.closed || !redisChannel.startsWith(this.prefix)) return;
    const channel = redisChannel.slice(this.prefix.length);
    if (!this.channels.has(channel)) return;
    const event = decodeEnvelope(message);
    if (!event) {
      this.logger.warn({ channel, bytes: message.length }, 'dropped a malformed broker message');
      return;
    }
    const handler = this.handler;
    if (!handler) return;
    try {
      if (event.kind === 'publication') handler.onPublication(channel, event.publication);
      else if (event.kind === 'join') handler.onJoin(channel, event.info);
      else handler.onLeave(channel, event.info);
    } catch (error) {
      // A fault in one delivery must not stop the subscriber connection's other deliveries.
      this.logger.error({ err: error, channel }, 'delivering a broker message failed');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('broker is closed');
  }
}
