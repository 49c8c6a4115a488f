import { randomUUID } from 'node:crypto';
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
  /**
   * When nothing arrived on the subscriber for this long, the broker sends
   * itself a probe through Redis; 0 turns probing off.
   * @default 30000
   */
  probeIntervalMs?: number;
  /**
   * A probe that has not come back after this long means the subscriber
   * no longer receives (a wedged connection that never reported an error):
   * it is logged and the handler is told to resync.
   * @default 5000
   */
  probeTimeoutMs?: number;
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
 * - **Idle probe.** A subscriber that receives nothing for
 *   `probeIntervalMs` gets a probe published to a channel of its own; when
 *   it does not come back within `probeTimeoutMs`, the handler's `onResync`
 *   is called (and again at every failed probe), so the node keeps reading
 *   from the store while the bus is silent.
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
  /** Subscribed channels, each with its SUBSCRIBE, so that a second caller also waits for the acknowledgement. */
  private readonly channels = new Map<string, Promise<void>>();
  private closed = false;
  private lastMessageAt = Date.now();
  private readonly probeChannel: string;
  private readonly probeTimeoutMs: number;
  private readonly probeTimer: NodeJS.Timeout | undefined;
  private probeSubscribed = false;
  private probing = false;
  private probeWaiter: { token: string; arrived: () => void } | undefined;
  private readonly listener: RedisMessageListener = (message, redisChannel) => this.receive(message, redisChannel);
  private readonly onReady = () => this.handler?.onResync();

  constructor(
    private readonly publisher: BrokerPublisherClient,
    private readonly subscriber: BrokerSubscriberClient,
    options: RedisBrokerOptions,
  ) {
    this.prefix = options.prefix ?? 'parley:broker:';
    this.logger = options.logger;
    this.probeChannel = `${this.prefix}#probe:${randomUUID()}`;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5000;
    const probeIntervalMs = options.probeIntervalMs ?? 30_000;
    if (probeIntervalMs > 0) {
      this.probeTimer = setInterval(() => void this.probe(probeIntervalMs), probeIntervalMs);
      this.probeTimer.unref();
    }
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
    const existing = this.channels.get(channel);
    if (existing) return existing;
    const subscribed = this.subscriber.subscribe(this.prefix + channel, this.listener);
    this.channels.set(channel, subscribed);
    subscribed.catch(() => {
      if (this.channels.get(channel) === subscribed) this.channels.delete(channel);
    });
    return subscribed;
  }

  async unsubscribe(channel: string): Promise<void> {
    this.assertOpen();
    if (!this.channels.delete(channel)) return;
    await this.subscriber.unsubscribe(this.prefix + channel, this.listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    this.subscriber.off('ready', this.onReady);
    const redisChannels = [...this.channels.keys()].map((channel) => this.prefix + channel);
    if (this.probeSubscribed) redisChannels.push(this.probeChannel);
    this.channels.clear();
    await Promise.allSettled(redisChannels.map((name) => this.subscriber.unsubscribe(name, this.listener)));
  }

  private async send(channel: string, envelope: string): Promise<void> {
    this.assertOpen();
    await this.publisher.publish(this.prefix + channel, envelope);
  }

  /** Sends the subscriber a probe when it was idle; a probe that does not come back asks for a resync. */
  private async probe(intervalMs: number): Promise<void> {
    if (this.closed || this.probing || Date.now() - this.lastMessageAt < intervalMs) return;
    this.probing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!this.probeSubscribed) {
        await this.subscriber.subscribe(this.probeChannel, this.listener);
        this.probeSubscribed = true;
      }
      const token = randomUUID();
      const arrived = new Promise<boolean>((resolve) => {
        this.probeWaiter = { token, arrived: () => resolve(true) };
        timer = setTimeout(() => resolve(false), this.probeTimeoutMs);
      });
      await this.publisher.publish(this.probeChannel, token);
      if (!(await arrived) && !this.closed) {
        this.logger.error('the broker subscriber receives nothing (a probe did not come back); reading from the store instead');
        this.handler?.onResync();
      }
    } catch (error) {
      // Redis is unreachable: the client reconnects, and its `ready` asks for the resync.
      this.logger.warn({ err: error }, 'broker probe failed');
    } finally {
      clearTimeout(timer);
      this.probeWaiter = undefined;
      this.probing = false;
    }
  }

  private receive(message: string, redisChannel: string): void {
    this.lastMessageAt = Date.now();
    if (redisChannel === this.probeChannel) {
      if (this.probeWaiter?.token === message) this.probeWaiter.arrived();
      return;
    }
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
