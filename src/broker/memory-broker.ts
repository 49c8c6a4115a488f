import type { ClientInfo, Publication } from '../protocol/types.js';
import type { Broker, BrokerHandler } from './broker.js';

/**
 * Connects the nodes of one process. Every `MemoryBroker` made from the same
 * {@link MemoryBrokerHub} behaves like a node of one deployment, which lets
 * tests run several nodes in one process; a single-node server makes one hub
 * and one broker.
 *
 * Delivery is synchronous: when `publish` resolves, every subscribed handler
 * has run, which keeps per-channel order trivially.
 */
export class MemoryBrokerHub {
  private readonly interest = new Map<string, Set<MemoryBroker>>();

  /** Creates a broker (a node's view) attached to this hub. */
  createBroker(): MemoryBroker {
    return new MemoryBroker(this);
  }

  /** @internal */
  add(channel: string, broker: MemoryBroker): void {
    let brokers = this.interest.get(channel);
    if (!brokers) {
      brokers = new Set();
      this.interest.set(channel, brokers);
    }
    brokers.add(broker);
  }

  /** @internal */
  remove(channel: string, broker: MemoryBroker): void {
    const brokers = this.interest.get(channel);
    if (!brokers) return;
    brokers.delete(broker);
    if (brokers.size === 0) this.interest.delete(channel);
  }

  /** @internal */
  forEach(channel: string, deliver: (handler: BrokerHandler) => void): void {
    const brokers = this.interest.get(channel);
    if (!brokers) return;
    for (const broker of brokers) {
      const handler = broker.handler;
      if (handler) deliver(handler);
    }
  }
}

export class MemoryBroker implements Broker {
  /** @internal */
  handler: BrokerHandler | undefined;
  private readonly channels = new Set<string>();
  private closed = false;

  constructor(private readonly hub: MemoryBrokerHub = new MemoryBrokerHub()) {}

  setHandler(handler: BrokerHandler): void {
    this.handler = handler;
  }

  async publish(channel: string, publication: Publication): Promise<void> {
    this.assertOpen();
    this.hub.forEach(channel, (handler) => handler.onPublication(channel, publication));
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    this.assertOpen();
    this.hub.forEach(channel, (handler) => handler.onJoin(channel, info));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    this.assertOpen();
    this.hub.forEach(channel, (handler) => handler.onLeave(channel, info));
  }

  async subscribe(channel: string): Promise<void> {
    this.assertOpen();
    this.channels.add(channel);
    this.hub.add(channel, this);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.assertOpen();
    this.channels.delete(channel);
    this.hub.remove(channel, this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels) this.hub.remove(channel, this);
    this.channels.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('broker is closed');
  }
}
