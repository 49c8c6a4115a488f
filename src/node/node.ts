import { randomUUID } from 'node:crypto';
import type { PermissionSet } from '../auth/permissions.js';
import type { Broker, BrokerHandler } from '../broker/broker.js';
import type { ChannelResolver, ChannelSpec } from '../channel/channel.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { settleWithin } from '../async/settle-within.js';
import { Metrics } from '../ops/metrics.js';
import type { PresenceManager, PresenceStats, UserLookup } from '../presence/presence.js';
import { fossilPatch, type PatchMaker } from '../protocol/delta-push.js';
import { Errors, type Disconnect } from '../protocol/errors.js';
import type { ClientInfo, Publication, PublishRequest, StreamPosition } from '../protocol/types.js';
import { UnrecoverablePositionError, type HistoryPage, type HistoryQuery, type Store } from '../store/store.js';
import { ChannelGates } from './channel-gates.js';
import { ChannelListeners, type ChannelListener } from './channel-listeners.js';
import { ChannelPresence } from './channel-presence.js';
import { SingleFlight } from './single-flight.js';
import { StreamSequencer, type StreamSequencerOptions } from './stream-sequencer.js';
import {
  SessionRegistry,
  type ConnectionFilter,
  type RecoveryRequest,
  type ServerSubscribeOptions,
  type SessionHandle,
} from './session-registry.js';

export type { ConnectionFilter, RecoveryRequest, ServerSubscribeOptions, SessionHandle } from './session-registry.js';
export type { ChannelListener } from './channel-listeners.js';
export type { ChannelGate } from './channel-gates.js';

/** What attaching to a channel yields for the subscribe reply. */
export interface AttachResult {
  /** Current top, for channels with history. */
  position?: StreamPosition;
  /** Set when recovery was asked for. */
  recovered?: boolean;
  /** The missed publications, when recovered. */
  publications?: Publication[];
}

/** A connection calling an RPC method or publishing (see {@link PublishHandler}). */
export interface RpcContext {
  readonly user: string;
  readonly client: string;
  readonly info: ClientInfo;
  /** The connection token's permission claim, when it has one (it then decides channel access). */
  readonly permissions?: PermissionSet | undefined;
}

export type RpcHandler = (context: RpcContext, data: unknown) => Promise<unknown> | unknown;

/**
 * Takes over what clients publish into one namespace's channels, once the
 * publisher's right to publish there was checked. Resolves `true` when it
 * dealt with the publication (it published whatever it publishes itself),
 * `false` to have it published as given; a ProtocolError it throws is the
 * publisher's reply. The publish is acknowledged when the returned promise
 * resolves.
 */
export type PublishHandler = (context: RpcContext, channel: ChannelSpec, data: unknown) => Promise<boolean>;

/** What this node holds now (server API `info`). */
export interface NodeStats {
  /** Connected sessions. */
  clients: number;
  /** Distinct users among them. */
  users: number;
  /** Channels with at least one local subscriber. */
  channels: number;
  /** Local subscriptions, over all channels. */
  subscriptions: number;
  /** Whole seconds since the node was made. */
  uptimeSeconds: number;
}

export interface NodeOptions {
  /** This node's id in the cluster. @default a random UUID */
  id?: string;
  config: Config;
  store: Store;
  broker: Broker;
  presence: PresenceManager;
  channels: ChannelResolver;
  logger: Logger;
  /** Where the node and its sessions count what happens; a registry of its own by default. */
  metrics?: Metrics;
  /** Timings and bounds of the per-channel ordering and repair (defaults suit production). */
  sequencing?: Partial<Pick<StreamSequencerOptions, 'gapWaitMs' | 'maxGapMs' | 'sweepIntervalMs' | 'idleMs' | 'maxBuffered'>>;
}

/** Longest a stored publication's acknowledgement waits for the broker to take it. */
const BROKER_ACK_WAIT_MS = 2_000;

/**
 * The hub of one server process: the local subscription index (channel →
 * listeners), fan-out of publications (encoded once per event), presence,
 * history and recovery. Sessions and the HTTP API talk to it; it talks to the
 * broker, presence manager and store through their interfaces only.
 */
export class Node implements BrokerHandler {
  readonly id: string;
  readonly config: Config;
  readonly channels: ChannelResolver;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Checks every client subscribe, publish, history and presence command runs past, after the channel rules. */
  readonly gates = new ChannelGates();
  private readonly store: Store;
  private readonly broker: Broker;
  private readonly presence: PresenceManager;
  /** Makes the fossil patches of delta subscriptions (fan-out and recovery), counting them. */
  readonly deltaPatch: PatchMaker = (base, target) => {
    this.metrics.deltaPatch();
    return fossilPatch(base, target);
  };
  private readonly listeners = new ChannelListeners(this.deltaPatch);
  private readonly brokerSubscriptions = new Map<string, Promise<void>>();
  private readonly channelPresence: ChannelPresence;
  private readonly sessions = new SessionRegistry();
  private readonly createdAt = Date.now();
  private readonly rpcHandlers = new Map<string, RpcHandler>();
  private readonly publishHandlers = new Map<string, PublishHandler>();
  private readonly cleanups = new Set<Promise<unknown>>();
  private readonly positionReads = new SingleFlight<StreamPosition>();
  private readonly listenerPositionReads = new SingleFlight<StreamPosition>();
  /** Shared pages are read-only to every caller. */
  private readonly recoveryReads = new SingleFlight<HistoryPage>();
  private readonly sequencer: StreamSequencer;

  constructor(options: NodeOptions) {
    this.id = options.id ?? randomUUID();
    this.config = options.config;
    this.store = options.store;
    this.broker = options.broker;
    this.presence = options.presence;
    this.channels = options.channels;
    this.logger = options.logger;
    this.metrics = options.metrics ?? new Metrics();
    this.sequencer = new StreamSequencer({
      ...options.sequencing,
      store: this.store,
      position: (channel) => this.position(channel),
      deliver: (channel, publication) => this.fanOut(channel, publication),
      reset: (channel) => this.listeners.reset(channel),
      logger: this.logger,
    });
    this.broker.setHandler(this);
    this.channelPresence = new ChannelPresence({
      presence: this.presence,
      broker: this.broker,
      logger: this.logger,
      maxListed: this.config.presenceMaxClients,
      localSubscribers: (channel) => this.listeners.count(channel),
    });
  }

  /** Starts background work (presence refresh, the sweep of channels against the store). */
  start(): void {
    this.channelPresence.start();
    this.sequencer.start();
  }

  // ---- sessions -------------------------------------------------------

  registerSession(session: SessionHandle): void {
    this.sessions.add(session);
  }

  /** Makes a session reachable by its user (server API); call once its connect reply is sent. */
  sessionConnected(session: SessionHandle): void {
    this.sessions.connected(session);
  }

  unregisterSession(session: SessionHandle): void {
    this.sessions.remove(session);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Registers work a closing session still has to finish (unsubscribes, leaves); {@link close} waits for it. */
  trackCleanup(work: Promise<unknown>): void {
    this.cleanups.add(work);
    const forget = () => this.cleanups.delete(work);
    work.then(forget, forget);
  }

  /** Every open session, for shutdown. */
  allSessions(): IterableIterator<SessionHandle> {
    return this.sessions.values();
  }

  // ---- server-initiated changes (server API), on this node's connections ----

  /** Closes a user's connections that the filter selects; returns how many. */
  disconnectUser(user: string, disconnect: Disconnect, filter: ConnectionFilter = {}): number {
    const targets = this.sessions.connectionsOf(user, filter);
    for (const session of targets) session.disconnect(disconnect, 'disconnected by the server API');
    return targets.length;
  }

  /** Subscribes a user's connections that the filter selects; resolves with how many were subscribed. */
  async subscribeUser(user: string, channel: ChannelSpec, options: ServerSubscribeOptions, filter: ConnectionFilter = {}): Promise<number> {
    const targets = this.sessions.connectionsOf(user, filter);
    const done = await Promise.all(targets.map((session) => session.subscribeFromServer(channel, options)));
    return done.filter(Boolean).length;
  }

  /** Ends a user's subscriptions to a channel (all of them for `""`); resolves with how many ended. */
  async unsubscribeUser(user: string, channel: string, filter: ConnectionFilter = {}): Promise<number> {
    const targets = this.sessions.connectionsOf(user, filter);
    const ended = await Promise.all(targets.map((session) => session.unsubscribeFromServer(channel)));
    return ended.reduce((sum, n) => sum + n, 0);
  }

  /** Connections subscribed on this node, per channel, for channels that have any. */
  channelSubscribers(): Map<string, number> {
    return this.listeners.subscriberCounts();
  }

  stats(): NodeStats {
    let subscriptions = 0;
    let channels = 0;
    for (const count of this.channelSubscribers().values()) {
      channels++;
      subscriptions += count;
    }
    return {
      clients: this.sessions.connections,
      users: this.sessions.users,
      channels,
      subscriptions,
      uptimeSeconds: Math.floor((Date.now() - this.createdAt) / 1000),
    };
  }

  // ---- subscriptions and fan-out ----------------------------------------

  /**
   * Starts delivering a channel's events to a listener and reads what its
   * subscribe reply needs. Events that arrive while this runs are delivered
   * to the listener, which must hold them until its reply is sent and drop
   * those at or below the returned position (see `Subscription`).
   */
  async attach(channel: ChannelSpec, listener: ChannelListener, recovery?: RecoveryRequest): Promise<AttachResult> {
    await this.addListener(channel.name, listener);
    if (!channel.historyEnabled) return recovery ? { recovered: false } : {};
    // The node's own starting position is read first, so every position given to a listener is at or after it.
    await this.sequencer.track(channel.name);
    // The last listener may have left while the position was read: a stream nobody listens to is not kept.
    if (!this.listeners.has(channel.name)) this.sequencer.untrack(channel.name);
    if (!recovery) return { position: await this.listenerPosition(channel.name) };
    if (!channel.options.recover) return { position: await this.listenerPosition(channel.name), recovered: false };
    return this.recover(channel, recovery);
  }

  /** Stops delivering a channel's events to a listener. */
  async detach(channel: string, listener: ChannelListener): Promise<void> {
    if (!this.listeners.remove(channel, listener)) return;
    this.sequencer.untrack(channel);
    const pending = this.brokerSubscriptions.get(channel);
    this.brokerSubscriptions.delete(channel);
    await pending?.catch(() => undefined);
    // Someone may have attached again while we waited.
    if (!this.listeners.has(channel)) await this.broker.unsubscribe(channel);
  }

  private async addListener(channel: string, listener: ChannelListener): Promise<void> {
    this.listeners.add(channel, listener);
    let subscribed = this.brokerSubscriptions.get(channel);
    if (!subscribed) {
      subscribed = this.broker.subscribe(channel);
      this.brokerSubscriptions.set(channel, subscribed);
    }
    try {
      await subscribed;
    } catch (error) {
      this.brokerSubscriptions.delete(channel);
      this.listeners.remove(channel, listener);
      throw error;
    }
  }

  /**
   * Recovery within the bound (`recoveryMaxPublications`, `recoveryMaxBytes`):
   * all the publications after `since`, or `recovered: false` with none when
   * they are not all retained or would not fit the bound (a single missed
   * publication is always recovered, however large, as a history page holds it). The bound keeps the
   * reply, which the client reads as one answer, a bounded cost per client.
   */
  private async recover(channel: ChannelSpec, since: RecoveryRequest): Promise<AttachResult> {
    const { recoveryMaxPublications, recoveryMaxBytes } = this.config;
    try {
      const limit = Math.min(channel.options.historySize, recoveryMaxPublications);
      const maxBytes = Math.min(recoveryMaxBytes, since.maxBytes ?? recoveryMaxBytes);
      const query = { since: { offset: since.offset, epoch: since.epoch }, limit, maxBytes };
      // A reconnect storm brings many clients back from the same position: they share one read,
      // as long as nothing was delivered since it started (see ChannelListeners.deliveries).
      const key = `${channel.name}\n${this.listeners.deliveries(channel.name)}\n${since.offset}\n${since.epoch}\n${limit}\n${maxBytes}`;
      const page = await this.recoveryReads.run(key, () => this.store.read(channel.name, query));
      const missed = page.position.offset - since.offset;
      // Every missed publication must be there, or recovery must say it failed: never a partial list.
      if (missed === page.publications.length) {
        return { position: page.position, recovered: true, publications: page.publications };
      }
    } catch (error) {
      if (!(error instanceof UnrecoverablePositionError)) throw error;
    }
    return { position: await this.listenerPosition(channel.name), recovered: false };
  }

  /** A channel's top, for the sequencer's start; concurrent reads of one channel share one store read. */
  private position(channel: string): Promise<StreamPosition> {
    return this.positionReads.run(channel, () => this.store.position(channel));
  }

  /**
   * A channel's top for a listener's subscribe reply, read after the listener
   * was added; listeners share a read only while nothing was delivered since
   * it started, so no delivery falls between their position and what they hold.
   */
  private listenerPosition(channel: string): Promise<StreamPosition> {
    return this.listenerPositionReads.run(`${channel}\n${this.listeners.deliveries(channel)}`, () => this.store.position(channel));
  }

  /**
   * Broker delivery. Publications with an offset go through the sequencer,
   * which delivers them in offset order and fills gaps from the store;
   * ephemeral ones (no offset) are delivered as they come.
   */
  onPublication(channel: string, publication: Publication): void {
    if (publication.offset !== undefined && publication.offset > 0) this.sequencer.receive(channel, publication);
    else this.fanOut(channel, publication);
  }

  /** Hands a publication to this node's listeners, encoded once, and counts the fan-out. */
  private fanOut(channel: string, publication: Publication): void {
    const listeners = this.listeners.count(channel);
    if (listeners === 0) return;
    this.metrics.fannedOut(listeners, publication.time);
    this.listeners.publication(channel, publication);
  }

  /** The broker may have lost events: every channel held here is checked against the store. */
  onResync(): void {
    this.logger.info('broker reconnected; checking every channel against the store');
    void this.sequencer.resync();
  }

  onJoin(channel: string, info: ClientInfo): void {
    this.listeners.join(channel, info);
  }

  onLeave(channel: string, info: ClientInfo): void {
    this.listeners.leave(channel, info);
  }

  // ---- publishing and history -----------------------------------------

  /**
   * Publishes to a channel: stores it first when the channel keeps history
   * (resolving only once it is durable), then delivers it to every node; a
   * stored publication that the broker fails to carry still resolves, as
   * the nodes read it from the store. With `history: false` the publication
   * is delivered only, without offset, and a broker failure rejects.
   * A message with an `idempotencyKey` the store has seen within its window
   * is neither stored nor delivered again: the first publication is returned.
   */
  async publish(channel: ChannelSpec, message: PublishRequest, options: { history?: boolean } = {}): Promise<Publication> {
    // `history: false` sends an ephemeral event (e.g. "typing") that is neither stored nor given an offset.
    if (!channel.historyEnabled || options.history === false) {
      const { idempotencyKey: _key, ...ephemeral } = message;
      await this.broker.publish(channel.name, ephemeral);
      this.metrics.published();
      return ephemeral;
    }
    const appendStarted = performance.now();
    const [stored] = await this.store.append(channel.name, [message], {
      size: channel.options.historySize,
      ttlMs: channel.options.historyTtl * 1000,
    });
    this.metrics.committed(performance.now() - appendStarted);
    // A replayed append was delivered by the publish that stored it (or, if that one died before
    // delivering, is delivered from the store by every node's gap repair): nothing to send again.
    if (stored?.replayed) {
      const { replayed: _replayed, ...first } = stored;
      return first;
    }
    const publication = stored as Publication;
    // It is durable, so the publish stands whatever the broker does: nodes find it in the store (gap
    // repair or sweep). A broker that does not answer soon (a connection dying silently) does not hold the ack.
    const carried = this.broker.publish(channel.name, publication).then(
      () => this.metrics.published(),
      (error: unknown) => this.logger.error({ err: error, channel: channel.name, offset: publication.offset }, 'broker publish failed; nodes repair it from the store'),
    );
    await settleWithin(carried, BROKER_ACK_WAIT_MS, () => new Error('broker is slow')).catch(() => undefined);
    return publication;
  }

  /**
   * Reads a channel's history page.
   * @throws ProtocolError 108 when the channel keeps no history, 112 for an unusable `since`.
   */
  async history(channel: ChannelSpec, query: HistoryQuery): Promise<HistoryPage> {
    if (!channel.historyEnabled) throw Errors.notAvailable('history is not enabled for this channel');
    try {
      return await this.store.read(channel.name, query);
    } catch (error) {
      if (error instanceof UnrecoverablePositionError) throw Errors.unrecoverablePosition();
      throw error;
    }
  }

  /** Drops a channel's history (server API); its epoch changes. */
  async removeHistory(channel: ChannelSpec): Promise<void> {
    await this.store.removeHistory(channel.name);
  }

  // ---- presence (see ChannelPresence) -------------------------------------

  /** Records a client in a channel's presence and announces it, as the namespace asks. */
  join(channel: ChannelSpec, info: ClientInfo): Promise<void> {
    return this.channelPresence.join(channel, info);
  }

  /** Removes a client from a channel's presence and announces it, as the namespace asks. */
  leave(channel: ChannelSpec, info: ClientInfo): Promise<void> {
    return this.channelPresence.leave(channel, info);
  }

  /** Re-adds every presence entry of this node's clients now, for a presence service that may have lost them (a restart). */
  refreshPresence(): Promise<void> {
    return this.channelPresence.refresh();
  }

  /**
   * Every presence entry of a channel of at most `presenceMaxClients` connections.
   * @throws ProtocolError 108 when the channel keeps no presence; 106 when it is bigger.
   */
  presenceOf(channel: ChannelSpec): Promise<Map<string, ClientInfo>> {
    return this.channelPresence.list(channel);
  }

  /** Exact counts, O(1). @throws ProtocolError 108 when the channel keeps no presence. */
  presenceStats(channel: ChannelSpec): Promise<PresenceStats> {
    return this.channelPresence.stats(channel);
  }

  /** The users present in a channel, as an O(1) lookup. @throws ProtocolError 108 when the channel keeps no presence. */
  presentUsers(channel: ChannelSpec): Promise<UserLookup> {
    return this.channelPresence.users(channel);
  }

  /** Whether join and leave events are pushed to the channel's subscribers now (see `joinLeaveMaxClients`). */
  joinLeaveLive(channel: ChannelSpec): boolean {
    return this.channelPresence.live(channel);
  }

  // ---- rpc ----------------------------------------------------------------

  /** Registers an RPC method for clients. A second registration of a name replaces the first. */
  registerRpc(method: string, handler: RpcHandler): void {
    this.rpcHandlers.set(method, handler);
  }

  /**
   * Runs a registered method, or else `fallback` (the backend's rpc proxy) when given.
   * @throws ProtocolError 104 for an unknown method without a fallback; handlers' ProtocolErrors pass through.
   */
  async callRpc(method: string, context: RpcContext, data: unknown, fallback?: (method: string, data: unknown) => Promise<unknown>): Promise<unknown> {
    const handler = this.rpcHandlers.get(method);
    if (handler) return handler(context, data);
    if (fallback) return fallback(method, data);
    throw Errors.methodNotFound(`unknown rpc method "${method}"`);
  }

  // ---- client publications ------------------------------------------------

  /** Gives a namespace's client publications to `handler`. A second registration for a namespace replaces the first. */
  registerPublishHandler(namespace: string, handler: PublishHandler): void {
    this.publishHandlers.set(namespace, handler);
  }

  /**
   * Publishes what a client sent to a channel it may publish to: through the
   * namespace's {@link PublishHandler} when there is one, otherwise (or when
   * the handler declines) as given, with the publisher's `info` attached;
   * `history: false` delivers it without storing it (see {@link publish}).
   */
  async publishFromClient(context: RpcContext, channel: ChannelSpec, data: unknown, options: { history?: boolean } = {}): Promise<void> {
    const handler = this.publishHandlers.get(channel.namespace);
    if (handler && (await handler(context, channel, data))) return;
    await this.publish(channel, { data: JSON.stringify(data), info: context.info }, options);
  }

  // ---- lifecycle ----------------------------------------------------------

  /**
   * Waits for closing sessions to finish their cleanup, stops background
   * work and releases broker and presence. The store is closed by its owner.
   */
  async close(): Promise<void> {
    this.channelPresence.stop();
    this.sequencer.stop();
    await Promise.allSettled([...this.cleanups]);
    await Promise.allSettled([this.broker.close(), this.presence.close()]);
  }
}

