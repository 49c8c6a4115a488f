import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from '../auth/authenticator.js';
import { NO_CHANNELS, type ConnectionCredentials } from '../auth/claims.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Logger } from '../log/logger.js';
import type { Node, ServerSubscribeOptions, SessionHandle } from '../node/node.js';
import type { Command, CommandRequests, Decoded } from '../protocol/commands.js';
import type { Codec } from '../protocol/codec.js';
import { jsonCodec } from '../protocol/json-codec.js';
import type { ConnectResult, Reply } from '../protocol/messages.js';
import { DisconnectError, Disconnects, Errors, ProtocolError, type Disconnect } from '../protocol/errors.js';
import type { ConnectionDenials } from '../cluster/connection-denials.js';
import type { ConnectionGate } from '../accounts/account-gate.js';
import type { ClientInfo } from '../protocol/types.js';
import type { Transport } from '../transport/transport.js';
import type { BackendProxy } from '../proxy/backend-proxy.js';
import type { ProxiedConnect, SessionProxy } from '../proxy/session-proxy.js';
import { CommandIntake } from './command-intake.js';
import { historyCommand, presenceCommand, presenceStatsCommand, publishCommand, type CommandCaller } from './channel-commands.js';
import { closeDelayMs, ttlSeconds } from './expiry.js';
import type { DeadlineTarget, Deadlines } from './deadlines.js';
import type { Heartbeat, HeartbeatTarget } from './heartbeat.js';
import { refusalOf } from './admission.js';
import { RateLimiter } from './rate-limiter.js';
import { SessionSubscriptions, type SubscriptionOwner } from './session-subscriptions.js';
import { tokenRefusal } from './token-refusal.js';

export interface SessionContext {
  node: Node;
  authenticator: Authenticator;
  heartbeat: Heartbeat;
  /** The connect timeout, then the token's expiry, of every session. */
  deadlines: Deadlines;
  logger: Logger;
  /** Server version, reported in the connect reply. */
  version: string;
  /** Users a server API `disconnect` just removed for good: their new connections are refused the same way. */
  denials: ConnectionDenials;
  /** Refuses connections of deactivated accounts and ended account sessions, on connect and refresh. */
  gate: ConnectionGate;
  /** The backend proxy, when a proxy URL is configured. */
  proxy?: BackendProxy | undefined;
}

/**
 * Commands that run strictly one after another: those whose effects later
 * commands may depend on, and `history`, whose reply can be large, so that
 * the next command waits for room for replies (see `Transport.replyRoom`)
 * instead of many large pages being read at once.
 */
const ORDERED: ReadonlySet<string> = new Set(['connect', 'subscribe', 'unsubscribe', 'refresh', 'sub_refresh', 'history']);
/** Commands whose reply is small whatever the request (an acknowledgement or counts): they run outside the in-flight bound. */
const SMALL_REPLIES: ReadonlySet<string> = new Set(['publish', 'send', 'presence_stats']);

/**
 * One client connection speaking the Centrifuge protocol: decodes its
 * frames, authenticates it, enforces permissions and limits, answers
 * commands and delivers its subscriptions' pushes. Knows nothing of
 * WebSockets (it writes to a {@link Transport}), of the encoding (its
 * {@link Codec} reads and writes the bytes) nor of which broker, presence or
 * store is in use (it talks to the {@link Node}).
 */
export class Session implements SessionHandle, HeartbeatTarget, DeadlineTarget, SubscriptionOwner {
  readonly clientId = randomUUID();
  private state: 'connecting' | 'connected' | 'closed' = 'connecting';
  private credentials: ConnectionCredentials = { user: '', channels: NO_CHANNELS };
  private identity: ClientInfo = { user: '', client: this.clientId };
  private readonly subscriptions: SessionSubscriptions;
  private readonly intake: CommandIntake;
  private readonly limiter: RateLimiter;
  private rejectedInARow = 0;
  private childLogger: Logger | undefined;
  private readonly remoteAddress: string | undefined;
  /** Set over emulated transports: the secret the client names this session by on the emulation endpoint. */
  readonly emulationKey: string | undefined;
  readonly node: Node;
  /** This connection's side of the backend proxy; undefined when none is configured. */
  readonly proxy: SessionProxy | undefined;
  /** The connection's encoding (JSON unless the transport negotiated another). */
  readonly codec: Codec;

  constructor(
    readonly transport: Transport & { pause?(): void; resume?(): void },
    private readonly context: SessionContext,
    meta: {
      remoteAddress?: string | undefined;
      codec?: Codec;
      /** The request that opened the connection, when a backend proxy forwards some of its headers. */
      openingRequest?: IncomingMessage | undefined;
      /** Set over emulated transports: see {@link emulationKey}. */
      emulationKey?: string;
      /** The transport's name as the protocol knows it (`websocket`, `http_stream`, `sse`). */
      transportName?: string;
    } = {},
  ) {
    this.node = context.node;
    this.codec = meta.codec ?? jsonCodec;
    this.proxy = context.proxy?.forSession(this.clientId, meta.openingRequest, () => this.credentials.user, meta.transportName, this.codec.name);
    const config = this.node.config;
    this.subscriptions = new SessionSubscriptions(this);
    this.intake = new CommandIntake(this);
    this.limiter = new RateLimiter(config.commandRateLimit, config.commandBurst);
    this.remoteAddress = meta.remoteAddress;
    this.emulationKey = meta.emulationKey;
    context.deadlines.set(this, config.connectTimeout * 1000);
    this.node.registerSession(this);
  }

  /**
   * This connection's logger (client id, remote address, user once
   * connected). Made on first use: most connections log nothing, and a child
   * logger per idle connection would cost memory for nothing.
   */
  get logger(): Logger {
    this.childLogger ??= this.context.logger.child(
      this.state === 'connecting'
        ? { client: this.clientId, remote: this.remoteAddress }
        : { client: this.clientId, remote: this.remoteAddress, user: this.credentials.user },
    );
    return this.childLogger;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The connection's identity as other clients see it (publications, presence). */
  get clientInfo(): ClientInfo {
    return this.identity;
  }

  /** The connection's user and token permissions. */
  get principal(): ConnectionCredentials {
    return this.credentials;
  }

  get authenticator(): Authenticator {
    return this.context.authenticator;
  }

  get user(): string {
    return this.credentials.user;
  }

  get accountSession(): string | undefined {
    return this.credentials.session;
  }

  // ---- input --------------------------------------------------------------

  /** Feeds one received message (a WebSocket message, a chunk of a request body), in the connection's encoding. */
  receive(chunk: Buffer): void {
    if (this.isClosed) return;
    if (this.codec.isPong(chunk)) {
      // Most of what an idle connection sends; a pong needs no ordering, so it skips the command queue.
      this.context.heartbeat.pong(this);
      return;
    }
    this.intake.receive(chunk);
  }

  /** The command loop failed unexpectedly (a bug): the connection closes rather than hang. */
  failed(error: unknown): void {
    this.logger.error({ err: error }, 'session failed');
    this.disconnect(Disconnects.serverError, 'session failed');
  }

  /** Handles one command line (see {@link CommandIntake} for the order and pace). */
  async dispatch(decoded: Decoded): Promise<void> {
    switch (decoded.kind) {
      case 'pong':
        this.context.heartbeat.pong(this);
        return;
      case 'invalid':
        this.disconnect(Disconnects.badRequest, decoded.reason);
        return;
      case 'unknown-method':
        this.refuse(decoded, Errors.methodNotFound());
        return;
      case 'unsupported-type':
      case 'refused':
      case 'command':
        break;
    }
    this.node.metrics.command(decoded.method);
    if (this.state === 'connecting' && decoded.method !== 'connect') {
      this.disconnect(Disconnects.badRequest, `${decoded.method} before connect`);
      return;
    }
    if (!this.limiter.take()) {
      this.rejectedInARow++;
      if (this.rejectedInARow > this.node.config.commandBurst) {
        this.disconnect(Disconnects.tooManyRequests, 'kept sending over the rate limit');
      } else {
        this.refuse(decoded, Errors.tooManyRequests());
      }
      return;
    }
    this.rejectedInARow = 0;
    if (decoded.kind === 'unsupported-type') {
      this.logger.debug({ method: decoded.method, type: decoded.type }, 'subscription type refused');
      this.refuse(decoded, Errors.notAvailable(`subscription type ${decoded.type} is not served: only streams (type 0)`));
      return;
    }
    if (decoded.kind === 'refused') {
      this.logger.debug({ method: decoded.method, reason: decoded.error.message }, 'command refused by the codec');
      this.refuse(decoded, decoded.error);
      return;
    }
    const command = decoded;
    if (ORDERED.has(command.method)) {
      await this.run(command);
      return;
    }
    // Small fixed-size answers need no slot: a busy publisher keeps many publishes in
    // flight so that one commit serves them all (the rate limit bounds how many).
    if (SMALL_REPLIES.has(command.method)) void this.run(command);
    else this.intake.track(this.run(command));
  }

  private async run(command: Command): Promise<void> {
    try {
      const reply = await this.handle(command);
      if (reply !== undefined && !this.isClosed) this.answer(reply);
    } catch (error) {
      if (this.isClosed) return;
      if (error instanceof DisconnectError) {
        this.disconnect(error.disconnect, `the backend answered ${command.method} with a disconnect`);
        return;
      }
      if (error instanceof ProtocolError) {
        this.logger.debug({ method: command.method, code: error.code, reason: error.message }, 'command refused');
        this.refuse(command, error);
        return;
      }
      this.logger.error({ err: error, method: command.method }, 'command failed');
      this.refuse(command, Errors.internal());
    }
  }

  /** Answers a command with an error, counted by code; `send` has no reply, so its errors are only counted. */
  private refuse(command: { id: number; method?: string }, error: ProtocolError): void {
    this.node.metrics.error(error.code);
    if (command.method !== 'send') this.transport.reply(this.codec.error(command.id, error));
  }

  /** Sends the successful answer to a command, in the connection's encoding. */
  answer(reply: Reply): void {
    this.transport.reply(this.codec.reply(reply));
  }

  /** Runs a command; resolves with the reply to send, if the handler did not send it itself. */
  private handle(command: Command): Promise<Reply | void> | Reply | void {
    // A switch rather than a table of bound handlers: nothing per session to allocate.
    switch (command.method) {
      case 'connect':
        return this.handleConnect(command.id, command.request);
      case 'subscribe':
        return this.subscriptions.subscribe(command.id, command.request);
      case 'unsubscribe':
        return this.subscriptions.unsubscribe(command.id, command.request);
      case 'publish':
        return publishCommand(this.caller, command.id, command.request);
      case 'presence':
        return presenceCommand(this.caller, command.id, command.request);
      case 'presence_stats':
        return presenceStatsCommand(this.caller, command.id, command.request);
      case 'history':
        return historyCommand(this.caller, command.id, command.request);
      case 'rpc':
        return this.handleRpc(command.id, command.request);
      case 'send':
        return this.handleSend(command.request);
      case 'refresh':
        return this.handleRefresh(command.id, command.request);
      case 'sub_refresh':
        return this.subscriptions.subRefresh(command.id, command.request);
    }
  }

  private get caller(): CommandCaller {
    return { node: this.node, principal: this.credentials, info: this.identity, proxy: this.proxy };
  }

  // ---- connect, refresh, expiry -----------------------------------------

  private async handleConnect(id: number, request: CommandRequests['connect']): Promise<void> {
    if (this.state !== 'connecting') {
      this.disconnect(Disconnects.badRequest, 'connect sent twice');
      return;
    }
    const config = this.node.config;
    let credentials: ConnectionCredentials;
    let proxied: ProxiedConnect | undefined;
    this.proxy?.connecting(request);
    if (!request.token && this.proxy?.connects) {
      proxied = await this.proxy.connect(request);
      if (this.isClosed) return;
      credentials = proxied.credentials;
    } else if (!request.token) {
      if (!config.allowAnonymous) throw Errors.unauthorized('a connection token is required');
      credentials = { user: '', channels: NO_CHANNELS };
    } else {
      const verified = await this.verifyConnectionToken(request.token);
      if (!verified || this.isClosed) return;
      credentials = verified;
    }
    const refused = await refusalOf(this.context, credentials, this.logger);
    if (this.isClosed) return;
    if (refused) {
      this.disconnect(refused.disconnect, refused.detail);
      return;
    }
    this.context.deadlines.clear(this);
    this.credentials = credentials;
    this.identity = credentials.info === undefined
      ? { user: credentials.user, client: this.clientId }
      : { user: credentials.user, client: this.clientId, conn_info: credentials.info };
    this.childLogger = undefined; // the next line logged carries the user
    this.state = 'connected';
    this.context.heartbeat.add(this);
    this.proxy?.connected();
    this.scheduleExpiry();

    const result: ConnectResult = {
      client: this.clientId,
      version: this.context.version,
      ping: config.pingInterval,
      pong: true,
    };
    // A connection the refresh proxy extends is refreshed by the server: the client is not told it expires.
    const ttl = this.proxy?.refreshesOnServer ? undefined : ttlSeconds(credentials.expiresAt);
    if (ttl !== undefined) Object.assign(result, { expires: true, ttl });
    if (proxied?.data) result.data = JSON.stringify(proxied.data.value ?? null);
    // Where the client's later commands go: this node, and the session there.
    if (this.emulationKey !== undefined) {
      result.session = this.emulationKey;
      result.node = this.node.id;
    }

    // Server-side subscriptions from the token's `channels` claim (or the connect proxy's), recovered as the client asks.
    const fromToken = await this.subscriptions.fromToken(credentials.channels, request.subs, proxied?.subs ?? credentials.subscriptionOptions);
    if (!fromToken || this.isClosed) return;
    if (fromToken.subs) result.subs = fromToken.subs;
    this.answer({ id, method: 'connect', result });
    this.node.sessionConnected(this);
    // A disconnect or a sign-out that ran while this connect was under way did not find it: asked again now that it is findable.
    const lateDenial = await refusalOf(this.context, credentials, this.logger);
    if (lateDenial && !this.isClosed) {
      this.disconnect(lateDenial.disconnect, lateDenial.detail);
      return;
    }
    await fromToken.activate();
    if (this.context.logger.isLevelEnabled('debug')) this.logger.debug({ name: request.name, version: request.version, encoding: this.codec.name }, 'connected');
  }

  /** Verifies a connection token; answers or disconnects and resolves undefined when it is not acceptable. */
  private async verifyConnectionToken(token: string): Promise<ConnectionCredentials | undefined> {
    try {
      return await this.context.authenticator.connection(token);
    } catch (error) {
      const refused = tokenRefusal(error);
      this.logger.info({ kind: refused.kind }, 'connection token refused');
      this.disconnect(Disconnects.invalidToken, refused.message);
      return undefined;
    }
  }

  private async handleRefresh(id: number, request: CommandRequests['refresh']): Promise<void> {
    const credentials = await this.verifyConnectionToken(request.token);
    if (!credentials || this.isClosed) return;
    if (credentials.user !== this.credentials.user) {
      this.disconnect(Disconnects.invalidToken, 'refreshed token is for another user');
      return;
    }
    const refused = await refusalOf({ gate: this.context.gate }, credentials, this.logger);
    if (this.isClosed) return;
    if (refused) {
      this.disconnect(refused.disconnect, refused.detail);
      return;
    }
    this.credentials = {
      ...this.credentials,
      expiresAt: credentials.expiresAt,
      permissions: credentials.permissions,
      info: credentials.info,
      ...(credentials.session === undefined ? {} : { session: credentials.session }),
    };
    this.scheduleExpiry();
    const ttl = ttlSeconds(credentials.expiresAt);
    this.answer({ id, method: 'refresh', result: ttl === undefined ? {} : { expires: true, ttl } });
  }

  private scheduleExpiry(): void {
    const expiresAt = this.credentials.expiresAt;
    if (expiresAt === undefined) this.context.deadlines.clear(this);
    else if (this.proxy?.refreshesOnServer) this.context.deadlines.set(this, Math.max(0, expiresAt * 1000 - Date.now()));
    else this.context.deadlines.set(this, closeDelayMs(expiresAt));
  }

  /** At expiry, the refresh proxy decides whether the connection lives on; the client takes no part. */
  private async refreshOnServer(proxy: SessionProxy): Promise<void> {
    const outcome = await proxy.refresh();
    if (this.isClosed) return;
    if ('disconnect' in outcome) this.disconnect(outcome.disconnect, 'the backend answered refresh with a disconnect');
    else if ('retryInMs' in outcome) this.context.deadlines.set(this, outcome.retryInMs);
    // As in Centrifugo: a refresh that does not move the expiry into the future ends the connection
    // (an answer without `expire_at` keeps the expiry that just passed), so no answer can make
    // the server ask again at once, nor let the connection live on without an expiry.
    else if (outcome.expired || outcome.expiresAt === undefined || outcome.expiresAt * 1000 <= Date.now()) {
      this.disconnect(Disconnects.expired, 'the backend did not extend the connection');
    } else {
      this.credentials = { ...this.credentials, expiresAt: outcome.expiresAt };
      if (outcome.info) {
        this.credentials.info = outcome.info.value;
        this.identity = { user: this.credentials.user, client: this.clientId, conn_info: outcome.info.value };
      }
      this.scheduleExpiry();
    }
  }

  /** The connect timeout (before connect), or the grace after the token expired (after). */
  onDeadline(): void {
    if (this.state === 'connecting') {
      this.disconnect(Disconnects.stale, 'no connect command in time');
      return;
    }
    if (this.proxy?.refreshesOnServer) {
      this.refreshOnServer(this.proxy).catch((error: unknown) => this.failed(error));
      return;
    }
    const expiresAt = this.credentials.expiresAt;
    if (expiresAt !== undefined && expiresAt * 1000 <= Date.now()) this.disconnect(Disconnects.expired, 'token not refreshed');
  }

  // ---- rpc and send ------------------------------------------------------------

  private async handleRpc(id: number, request: CommandRequests['rpc']): Promise<Reply> {
    const data = await this.node.callRpc(
      request.method ?? '',
      { user: this.credentials.user, client: this.clientId, info: this.identity, permissions: this.credentials.permissions },
      request.data,
      this.proxy?.rpcFallback,
    );
    return { id, method: 'rpc', result: data === undefined ? {} : { data } };
  }

  private handleSend(request: CommandRequests['send']): void {
    // No application handler consumes asynchronous messages; they are acknowledged by silence, as the protocol says.
    this.logger.debug({ bytes: JSON.stringify(request.data ?? null).length }, 'send ignored');
  }

  // ---- heartbeat and closing ----------------------------------------------

  sendPing(left: () => void): void {
    this.transport.send(this.codec.ping);
    this.transport.afterWritten(left);
  }

  get bytesSent(): number {
    return this.transport.bytesSent;
  }

  onPongTimeout(): void {
    this.disconnect(Disconnects.noPong, 'no pong');
  }

  /** Stops taking commands (shutdown); commands already running finish. */
  drain(): void {
    this.intake.stop();
  }

  /** Closes the connection with the shutdown code (clients reconnect elsewhere). */
  shutdown(): void {
    this.disconnect(Disconnects.shutdown, 'server shutdown');
  }

  // ---- changes made by the server (server API) ------------------------------------

  subscribeFromServer(channel: ChannelSpec, options: ServerSubscribeOptions): Promise<boolean> {
    return this.intake.serverTask(() => this.subscriptions.addFromServer(channel, options), false);
  }

  unsubscribeFromServer(channel: string): Promise<number> {
    return this.intake.serverTask(() => this.subscriptions.removeFromServer(channel), 0);
  }

  /** Closes the connection with a protocol code and cleans up. */
  disconnect(disconnect: Disconnect, detail: string): void {
    if (this.isClosed) return;
    const level = disconnect.code === Disconnects.shutdown.code ? 'debug' : 'info';
    if (this.context.logger.isLevelEnabled(level)) this.logger[level]({ code: disconnect.code, detail }, 'disconnecting');
    this.node.metrics.disconnect(disconnect.code);
    this.transport.close(disconnect);
    this.closed();
  }

  /** Called by the transport binding when the socket is gone. */
  closed(): void {
    if (this.isClosed) return;
    this.state = 'closed';
    this.context.deadlines.clear(this);
    this.intake.close();
    this.context.heartbeat.remove(this);
    this.node.unregisterSession(this);
    // The node waits for this before it closes, so leave events and presence removals still go out on shutdown.
    this.node.trackCleanup(this.subscriptions.removeAll());
  }
}
