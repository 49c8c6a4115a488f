import { randomUUID } from 'node:crypto';
import type { Authenticator } from '../auth/authenticator.js';
import type { ConnectionCredentials } from '../auth/claims.js';
import { TokenError } from '../auth/token-error.js';
import type { PermissionSet } from '../auth/permissions.js';
import { historyLimitFor, isAllowed } from '../channel/access.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Logger } from '../log/logger.js';
import type { Node, SessionHandle } from '../node/node.js';
import { decodeFrame, type Command, type CommandRequests, type Decoded } from '../protocol/commands.js';
import { encodeError, encodeReply, encodeReplyRaw, encodeWithRaw, PING_FRAME, RawJson, encodePublications } from '../protocol/encode.js';
import { Disconnects, Errors, ProtocolError, type Disconnect } from '../protocol/errors.js';
import type { ClientInfo } from '../protocol/types.js';
import type { Transport } from '../transport/transport.js';
import type { Heartbeat, HeartbeatTarget } from './heartbeat.js';
import { RateLimiter } from './rate-limiter.js';
import { Subscription } from './subscription.js';

export interface SessionContext {
  node: Node;
  authenticator: Authenticator;
  heartbeat: Heartbeat;
  logger: Logger;
  /** Server version, reported in the connect reply. */
  version: string;
}

/** Frames that may wait unprocessed before reading from the socket pauses. */
const MAX_PENDING_FRAMES = 32;
/** After a token expires, how long the client has to refresh before it is disconnected. */
const EXPIRED_CLOSE_DELAY_MS = 5_000;
/** Commands whose effects later commands may depend on: they run strictly one after another. */
const ORDERED: ReadonlySet<string> = new Set(['connect', 'subscribe', 'unsubscribe', 'refresh', 'sub_refresh']);


/**
 * One client connection speaking the Centrifuge protocol: decodes its
 * frames, authenticates it, enforces permissions and limits, answers
 * commands and delivers its subscriptions' pushes. Knows nothing of
 * WebSockets (it writes to a {@link Transport}) nor of which broker, presence
 * or store is in use (it talks to the {@link Node}).
 */
export class Session implements SessionHandle, HeartbeatTarget {
  readonly clientId = randomUUID();
  private state: 'connecting' | 'connected' | 'closed' = 'connecting';
  private credentials: ConnectionCredentials = { user: '', channels: [] };
  private clientInfo: ClientInfo = { user: '', client: this.clientId };
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly pending: string[] = [];
  private processing = false;
  private draining = false;
  private readonly limiter: RateLimiter;
  private rejectedInARow = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private logger: Logger;
  private readonly node: Node;

  constructor(
    private readonly transport: Transport & { pause?(): void; resume?(): void },
    private readonly context: SessionContext,
    meta: { remoteAddress?: string | undefined } = {},
  ) {
    this.node = context.node;
    const config = this.node.config;
    this.limiter = new RateLimiter(config.commandRateLimit, config.commandBurst);
    this.logger = context.logger.child({ client: this.clientId, remote: meta.remoteAddress });
    this.connectTimer = setTimeout(() => this.disconnect(Disconnects.stale, 'no connect command in time'), config.connectTimeout * 1000);
    this.connectTimer.unref();
    this.node.registerSession(this);
  }

  private get isClosed(): boolean {
    return this.state === 'closed';
  }

  get user(): string {
    return this.credentials.user;
  }

  // ---- input --------------------------------------------------------------

  /** Feeds one received WebSocket message. */
  receive(text: string): void {
    if (this.isClosed) return;
    this.pending.push(text);
    if (this.pending.length >= MAX_PENDING_FRAMES) this.transport.pause?.();
    if (!this.processing) void this.processPending();
  }

  private async processPending(): Promise<void> {
    this.processing = true;
    try {
      while (this.pending.length > 0 && !this.isClosed && !this.draining) {
        const frame = this.pending.shift() as string;
        if (this.pending.length < MAX_PENDING_FRAMES / 2) this.transport.resume?.();
        for (const decoded of decodeFrame(frame)) {
          if (this.isClosed) break;
          await this.dispatch(decoded);
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'session failed');
      this.disconnect(Disconnects.serverError, 'session failed');
    } finally {
      this.processing = false;
    }
  }

  private async dispatch(decoded: Decoded): Promise<void> {
    switch (decoded.kind) {
      case 'pong':
        this.context.heartbeat.pong(this);
        return;
      case 'invalid':
        this.disconnect(Disconnects.badRequest, decoded.reason);
        return;
      case 'unknown-method':
        this.transport.send(encodeError(decoded.id, Errors.methodNotFound()));
        return;
      case 'command':
        break;
    }
    const command = decoded;
    if (this.state === 'connecting' && command.method !== 'connect') {
      this.disconnect(Disconnects.badRequest, `${command.method} before connect`);
      return;
    }
    if (!this.limiter.take()) {
      this.rejectedInARow++;
      if (this.rejectedInARow > this.node.config.commandBurst) {
        this.disconnect(Disconnects.tooManyRequests, 'kept sending over the rate limit');
      } else if (command.method !== 'send') {
        this.transport.send(encodeError(command.id, Errors.tooManyRequests()));
      }
      return;
    }
    this.rejectedInARow = 0;
    const running = this.run(command);
    if (ORDERED.has(command.method)) await running;
  }

  private async run(command: Command): Promise<void> {
    try {
      const reply = await this.handle(command);
      if (reply !== undefined && !this.isClosed) this.transport.send(reply);
    } catch (error) {
      if (this.isClosed) return;
      if (error instanceof ProtocolError) {
        this.logger.debug({ method: command.method, code: error.code, reason: error.message }, 'command refused');
        if (command.method !== 'send') this.transport.send(encodeError(command.id, error));
        return;
      }
      this.logger.error({ err: error, method: command.method }, 'command failed');
      if (command.method !== 'send') this.transport.send(encodeError(command.id, Errors.internal()));
    }
  }

  /** Runs a command; resolves with the reply to send, if the handler did not send it itself. */
  private handle(command: Command): Promise<string | void> | string | void {
    // A switch rather than a table of bound handlers: nothing per session to allocate.
    switch (command.method) {
      case 'connect':
        return this.handleConnect(command.id, command.request);
      case 'subscribe':
        return this.handleSubscribe(command.id, command.request);
      case 'unsubscribe':
        return this.handleUnsubscribe(command.id, command.request);
      case 'publish':
        return this.handlePublish(command.id, command.request);
      case 'presence':
        return this.handlePresence(command.id, command.request);
      case 'presence_stats':
        return this.handlePresenceStats(command.id, command.request);
      case 'history':
        return this.handleHistory(command.id, command.request);
      case 'rpc':
        return this.handleRpc(command.id, command.request);
      case 'send':
        return this.handleSend(command.request);
      case 'refresh':
        return this.handleRefresh(command.id, command.request);
      case 'sub_refresh':
        return this.handleSubRefresh(command.id, command.request);
    }
  }

  // ---- connect, refresh, expiry -----------------------------------------

  private async handleConnect(id: number, request: CommandRequests['connect']): Promise<void> {
    if (this.state !== 'connecting') {
      this.disconnect(Disconnects.badRequest, 'connect sent twice');
      return;
    }
    const config = this.node.config;
    let credentials: ConnectionCredentials;
    if (!request.token) {
      if (!config.allowAnonymous) throw Errors.unauthorized('a connection token is required');
      credentials = { user: '', channels: [] };
    } else {
      const verified = this.verifyConnectionToken(request.token);
      if (!verified) return;
      credentials = verified;
    }
    clearTimeout(this.connectTimer);
    this.credentials = credentials;
    this.clientInfo = credentials.info === undefined
      ? { user: credentials.user, client: this.clientId }
      : { user: credentials.user, client: this.clientId, conn_info: credentials.info };
    this.logger = this.logger.child({ user: credentials.user });
    this.state = 'connected';
    this.context.heartbeat.add(this);
    this.scheduleExpiry();

    const result: Record<string, unknown> = {
      client: this.clientId,
      version: this.context.version,
      ping: config.pingInterval,
      pong: true,
    };
    const ttl = this.ttlSeconds(credentials.expiresAt);
    if (ttl !== undefined) Object.assign(result, { expires: true, ttl });

    // Server-side subscriptions from the token's `channels` claim, recovered as the client asks.
    const serverSide: { subscription: Subscription; offset: number }[] = [];
    const subs: Record<string, RawJson> = {};
    for (const name of credentials.channels.slice(0, config.maxChannelsPerConnection)) {
      let channel: ChannelSpec;
      try {
        channel = this.node.channels.resolve(name);
      } catch {
        this.logger.warn({ channel: name }, 'token lists an invalid channel; skipped');
        continue;
      }
      if (this.subscriptions.has(channel.name)) continue;
      const recovery = request.subs?.[channel.name];
      const subscription = this.addSubscription(channel, this.clientInfo, false, true);
      const reply = await this.attach(subscription, recovery?.recover ? recovery : undefined);
      if (this.isClosed) return;
      subs[channel.name] = new RawJson(encodeWithRaw(reply.result));
      serverSide.push({ subscription, offset: reply.offset });
    }
    if (serverSide.length > 0) result.subs = new RawJson(encodeWithRaw(subs));
    this.transport.send(encodeReplyRaw(id, 'connect', result));
    for (const { subscription, offset } of serverSide) {
      subscription.goLive(offset);
      await this.joinChannel(subscription);
    }
    this.logger.debug({ name: request.name, version: request.version }, 'connected');
  }

  /** Verifies a connection token; answers or disconnects and returns undefined when it is not acceptable. */
  private verifyConnectionToken(token: string): ConnectionCredentials | undefined {
    try {
      return this.context.authenticator.connection(token);
    } catch (error) {
      if (error instanceof TokenError && error.kind === 'expired') throw Errors.tokenExpired();
      if (error instanceof TokenError) {
        this.logger.info({ kind: error.kind }, 'connection token refused');
        this.disconnect(Disconnects.invalidToken, error.message);
        return undefined;
      }
      throw error;
    }
  }

  private async handleRefresh(id: number, request: CommandRequests['refresh']): Promise<void> {
    const credentials = this.verifyConnectionToken(request.token);
    if (!credentials) return;
    if (credentials.user !== this.credentials.user) {
      this.disconnect(Disconnects.invalidToken, 'refreshed token is for another user');
      return;
    }
    this.credentials = { ...this.credentials, expiresAt: credentials.expiresAt, permissions: credentials.permissions, info: credentials.info };
    this.scheduleExpiry();
    const ttl = this.ttlSeconds(credentials.expiresAt);
    this.transport.send(encodeReply(id, 'refresh', ttl === undefined ? {} : { expires: true, ttl }));
  }

  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    const expiresAt = this.credentials.expiresAt;
    if (expiresAt === undefined) return;
    const delay = Math.max(0, expiresAt * 1000 - Date.now()) + EXPIRED_CLOSE_DELAY_MS;
    this.expiryTimer = setTimeout(() => {
      const current = this.credentials.expiresAt;
      if (current !== undefined && current * 1000 <= Date.now()) this.disconnect(Disconnects.expired, 'token not refreshed');
    }, delay);
    this.expiryTimer.unref();
  }

  private ttlSeconds(expiresAt: number | undefined): number | undefined {
    if (expiresAt === undefined) return undefined;
    return Math.max(1, Math.floor(expiresAt - Date.now() / 1000));
  }

  // ---- subscriptions --------------------------------------------------------

  private get principal(): { user: string; permissions?: PermissionSet | undefined } {
    return this.credentials;
  }

  private async handleSubscribe(id: number, request: CommandRequests['subscribe']): Promise<void> {
    const channel = this.node.channels.resolve(request.channel);
    if (this.subscriptions.has(channel.name)) throw Errors.alreadySubscribed();
    if (this.subscriptions.size >= this.node.config.maxChannelsPerConnection) {
      throw Errors.limitExceeded('too many subscriptions on this connection');
    }
    let info = this.clientInfo;
    let expiresAt: number | undefined;
    if (request.token) {
      const granted = this.verifySubscriptionToken(request.token, channel.name);
      if (!granted) return;
      expiresAt = granted.expiresAt;
      if (granted.info !== undefined) info = { ...this.clientInfo, chan_info: granted.info };
    } else if (!isAllowed('subscribe', channel, this.principal)) {
      throw Errors.permissionDenied();
    }
    const subscription = this.addSubscription(channel, info, request.token !== undefined && request.token !== '', false);
    subscription.expiresAt = expiresAt;
    const recovery = request.recover ? { offset: request.offset ?? 0, epoch: request.epoch ?? '' } : undefined;
    const reply = await this.attach(subscription, recovery);
    if (this.isClosed) return;
    const ttl = this.ttlSeconds(expiresAt);
    if (ttl !== undefined) Object.assign(reply.result, { expires: true, ttl });
    this.transport.send(encodeReplyRaw(id, 'subscribe', reply.result));
    subscription.goLive(reply.offset);
    this.scheduleSubscriptionExpiry(subscription);
    await this.joinChannel(subscription);
  }

  private verifySubscriptionToken(token: string, channel: string) {
    try {
      const granted = this.context.authenticator.subscription(token);
      if (granted.channel !== channel || granted.user !== this.credentials.user) {
        this.logger.info({ channel }, 'subscription token for another channel or user');
        this.disconnect(Disconnects.invalidToken, 'subscription token does not match');
        return undefined;
      }
      return granted;
    } catch (error) {
      if (error instanceof TokenError && error.kind === 'expired') throw Errors.tokenExpired();
      if (error instanceof TokenError) {
        this.logger.info({ kind: error.kind, channel }, 'subscription token refused');
        this.disconnect(Disconnects.invalidToken, error.message);
        return undefined;
      }
      throw error;
    }
  }

  private addSubscription(channel: ChannelSpec, info: ClientInfo, viaToken: boolean, serverSide: boolean): Subscription {
    const subscription = new Subscription(channel, info, viaToken, serverSide, this.transport, () =>
      this.disconnect(Disconnects.slow, 'too many events held during subscribe'),
    );
    this.subscriptions.set(channel.name, subscription);
    return subscription;
  }

  /** Attaches to the node and builds the subscribe result; undoes the subscription on failure. */
  private async attach(
    subscription: Subscription,
    recovery: { offset?: number; epoch?: string } | undefined,
  ): Promise<{ result: Record<string, unknown>; offset: number }> {
    const channel = subscription.channel;
    try {
      const attached = await this.node.attach(
        channel,
        subscription,
        recovery && { offset: recovery.offset ?? 0, epoch: recovery.epoch ?? '' },
      );
      const result: Record<string, unknown> = {};
      if (attached.position) {
        if (channel.options.recover) result.recoverable = true;
        result.epoch = attached.position.epoch;
        result.offset = attached.position.offset;
      }
      if (recovery) {
        result.was_recovering = true;
        result.recovered = attached.recovered === true;
        if (attached.publications && attached.publications.length > 0) {
          result.publications = new RawJson(encodePublications(attached.publications));
        }
      }
      return { result, offset: attached.position?.offset ?? 0 };
    } catch (error) {
      this.subscriptions.delete(channel.name);
      await this.node.detach(channel.name, subscription).catch(() => undefined);
      throw error;
    }
  }

  private async joinChannel(subscription: Subscription): Promise<void> {
    if (this.isClosed || this.subscriptions.get(subscription.channel.name) !== subscription) return;
    subscription.joined = true;
    await this.node.join(subscription.channel, subscription.info);
  }

  private scheduleSubscriptionExpiry(subscription: Subscription): void {
    clearTimeout(subscription.expiryTimer);
    const expiresAt = subscription.expiresAt;
    if (expiresAt === undefined) return;
    const delay = Math.max(0, expiresAt * 1000 - Date.now()) + EXPIRED_CLOSE_DELAY_MS;
    subscription.expiryTimer = setTimeout(() => {
      const current = subscription.expiresAt;
      if (current !== undefined && current * 1000 <= Date.now()) this.disconnect(Disconnects.subExpired, subscription.channel.name);
    }, delay);
    subscription.expiryTimer.unref();
  }

  private async handleSubRefresh(id: number, request: CommandRequests['sub_refresh']): Promise<void> {
    const subscription = this.subscriptions.get(request.channel);
    if (!subscription) throw Errors.badRequest('not subscribed to this channel');
    if (!subscription.viaToken) throw Errors.badRequest('subscription was not made with a token');
    const granted = this.verifySubscriptionToken(request.token, request.channel);
    if (!granted) return;
    subscription.expiresAt = granted.expiresAt;
    this.scheduleSubscriptionExpiry(subscription);
    const ttl = this.ttlSeconds(granted.expiresAt);
    this.transport.send(encodeReply(id, 'sub_refresh', ttl === undefined ? {} : { expires: true, ttl }));
  }

  private async handleUnsubscribe(id: number, request: CommandRequests['unsubscribe']): Promise<string> {
    const subscription = this.subscriptions.get(request.channel);
    if (subscription) await this.removeSubscription(subscription);
    return encodeReply(id, 'unsubscribe', {});
  }

  private async removeSubscription(subscription: Subscription): Promise<void> {
    const channel = subscription.channel;
    if (this.subscriptions.get(channel.name) !== subscription) return;
    this.subscriptions.delete(channel.name);
    clearTimeout(subscription.expiryTimer);
    await this.node.detach(channel.name, subscription);
    if (subscription.joined) await this.node.leave(channel, subscription.info);
  }

  // ---- publish, presence, history, rpc, send ---------------------------------

  private resolveFor(operation: 'publish' | 'history' | 'presence', name: string): ChannelSpec {
    const channel = this.node.channels.resolve(name);
    if (!isAllowed(operation, channel, this.principal)) throw Errors.permissionDenied();
    return channel;
  }

  private async handlePublish(id: number, request: CommandRequests['publish']): Promise<string> {
    const channel = this.resolveFor('publish', request.channel);
    await this.node.publish(channel, { data: JSON.stringify(request.data), info: this.clientInfo });
    return encodeReply(id, 'publish', {});
  }

  private async handlePresence(id: number, request: CommandRequests['presence']): Promise<string> {
    const channel = this.resolveFor('presence', request.channel);
    const presence = await this.node.presenceOf(channel);
    return encodeReply(id, 'presence', { presence: Object.fromEntries(presence) });
  }

  private async handlePresenceStats(id: number, request: CommandRequests['presence_stats']): Promise<string> {
    const channel = this.resolveFor('presence', request.channel);
    const stats = await this.node.presenceStats(channel);
    return encodeReply(id, 'presence_stats', { num_clients: stats.numClients, num_users: stats.numUsers });
  }

  private async handleHistory(id: number, request: CommandRequests['history']): Promise<string> {
    const channel = this.resolveFor('history', request.channel);
    const cap = Math.min(this.node.config.historyMaxLimit, historyLimitFor(channel, this.principal) ?? Infinity);
    const requested = request.limit ?? 0;
    const limit = requested < 0 ? cap : Math.min(requested, cap);
    const since = request.since && { offset: request.since.offset ?? 0, epoch: request.since.epoch ?? '' };
    const page = await this.node.history(channel, { limit, since, reverse: request.reverse === true });
    return encodeReplyRaw(id, 'history', {
      publications: new RawJson(encodePublications(page.publications)),
      epoch: page.position.epoch,
      offset: page.position.offset,
    });
  }

  private async handleRpc(id: number, request: CommandRequests['rpc']): Promise<string> {
    const data = await this.node.callRpc(
      request.method ?? '',
      { user: this.credentials.user, client: this.clientId, info: this.clientInfo, permissions: this.credentials.permissions },
      request.data,
    );
    return data === undefined ? encodeReply(id, 'rpc', {}) : encodeReply(id, 'rpc', { data });
  }

  private handleSend(request: CommandRequests['send']): void {
    // No application handler consumes asynchronous messages; they are acknowledged by silence, as the protocol says.
    this.logger.debug({ bytes: JSON.stringify(request.data ?? null).length }, 'send ignored');
  }

  // ---- heartbeat and closing ----------------------------------------------

  sendPing(): void {
    this.transport.send(PING_FRAME);
  }

  onPongTimeout(): void {
    this.disconnect(Disconnects.noPong, 'no pong');
  }

  /** Stops taking commands (shutdown); commands already running finish. */
  drain(): void {
    this.draining = true;
    this.transport.pause?.();
  }

  /** Closes the connection with the shutdown code (clients reconnect elsewhere). */
  shutdown(): void {
    this.disconnect(Disconnects.shutdown, 'server shutdown');
  }

  /** Closes the connection with a protocol code and cleans up. */
  disconnect(disconnect: Disconnect, detail: string): void {
    if (this.isClosed) return;
    const level = disconnect.code === Disconnects.shutdown.code ? 'debug' : 'info';
    this.logger[level]({ code: disconnect.code, detail }, 'disconnecting');
    this.transport.close(disconnect);
    this.closed();
  }

  /** Called by the transport binding when the socket is gone. */
  closed(): void {
    if (this.isClosed) return;
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    clearTimeout(this.expiryTimer);
    this.pending.length = 0;
    this.context.heartbeat.remove(this);
    this.node.unregisterSession(this);
    const cleanup = [...this.subscriptions.values()].map((subscription) =>
      this.removeSubscription(subscription).catch((error: unknown) =>
        this.logger.error({ err: error, channel: subscription.channel.name }, 'cleanup after disconnect failed'),
      ),
    );
    // The node waits for this before it closes, so leave events and presence removals still go out on shutdown.
    this.node.trackCleanup(Promise.all(cleanup));
  }
}
