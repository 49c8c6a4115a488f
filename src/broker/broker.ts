import type { ClientInfo, Publication } from '../protocol/types.js';

/** What a broker delivers to the node that subscribed. */
export interface BrokerHandler {
  /** A publication for a channel this node is subscribed to. */
  onPublication(channel: string, publication: Publication): void;
  /** A client joined a channel (on any node). */
  onJoin(channel: string, info: ClientInfo): void;
  /** A client left a channel (on any node). */
  onLeave(channel: string, info: ClientInfo): void;
  /**
   * Events may have been lost for every channel this node is subscribed to
   * (the connection carrying them dropped and came back): whoever needs them
   * all must catch up from the store. Brokers that cannot lose events never
   * call it.
   */
  onResync(): void;
}

/**
 * Carries positioned publications and join/leave events between the nodes of
 * a deployment. The {@link Store} gives publications their offset and epoch;
 * the broker only moves them.
 *
 * Guarantees every implementation keeps (checked by `test/contracts/broker-contract.ts`):
 * - **Interest.** After `subscribe(channel)` resolves, every later publish
 *   to that channel — from any node — reaches this node's handler until
 *   `unsubscribe(channel)` resolves. Nothing arrives for channels this node
 *   is not subscribed to.
 * - **Order.** Publications of one channel reach each node in the order
 *   their `publish` calls resolved on the publishing node, hence in offset
 *   order for a channel with one writer order (the store's).
 * - **At most once.** A publication reaches each subscribed node at most
 *   once. An implementation over a network may lose events (while a
 *   connection is down, or when a publish fails after the store accepted
 *   it); it then calls {@link BrokerHandler.onResync} once it is connected
 *   again. Publications carry their offset, so receivers detect and repair
 *   gaps from the store.
 * - **Self-delivery.** A node receives its own publications when subscribed.
 * - `subscribe` and `unsubscribe` are idempotent.
 */
export interface Broker {
  /** Sets the receiver of deliveries. Call once before `subscribe`. */
  setHandler(handler: BrokerHandler): void;
  /** Delivers a publication to every node subscribed to the channel. */
  publish(channel: string, publication: Publication): Promise<void>;
  /** Delivers a join event to every node subscribed to the channel. */
  publishJoin(channel: string, info: ClientInfo): Promise<void>;
  /** Delivers a leave event to every node subscribed to the channel. */
  publishLeave(channel: string, info: ClientInfo): Promise<void>;
  /** Starts receiving the channel's events on this node. */
  subscribe(channel: string): Promise<void>;
  /** Stops receiving the channel's events on this node. */
  unsubscribe(channel: string): Promise<void>;
  /** Releases resources; later calls reject. Idempotent. */
  close(): Promise<void>;
}
