import type { Authenticator } from '../auth/authenticator.js';
import type { SubscriptionCredentials, TokenSubscriptionOptions } from '../auth/claims.js';
import { isAllowed, type Principal } from '../channel/access.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Logger } from '../log/logger.js';
import type { AttachResult, Node, RecoveryRequest, ServerSubscribeOptions } from '../node/node.js';
import { SubscribeFlags, type CommandRequests, type ConnectRequest } from '../protocol/commands.js';
import type { Codec } from '../protocol/codec.js';
import { compressSubscribeResult } from '../protocol/delta-push.js';
import type { Push, Reply, SubscribePush, SubscribeResult } from '../protocol/messages.js';
import { Disconnects, Errors, ProtocolError, RESUBSCRIBE_UNSUBSCRIBE, SERVER_UNSUBSCRIBE, type Disconnect } from '../protocol/errors.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import { publicationBytes } from '../store/stream-rules.js';
import type { Transport } from '../transport/transport.js';
import { closeDelayMs, ttlSeconds } from './expiry.js';
import { HoldBudget, Subscription } from './subscription.js';
import type { SessionProxy } from '../proxy/session-proxy.js';
import { tokenRefusal } from './token-refusal.js';

/** Events all subscriptions of a session may hold at once while their replies are prepared. */
const MAX_HELD_EVENTS = 10_000;
/** Overflows of one channel in a row after which its next subscribe skips recovery. */
const OVERFLOWS_BEFORE_NO_RECOVERY = 2;

/** What a session's subscriptions need from the session. */
export interface SubscriptionOwner {
  readonly node: Node;
  readonly transport: Transport;
  /** The connection's encoding, for what subscriptions send themselves. */
  readonly codec: Codec;
  readonly authenticator: Authenticator;
  /** The session's current logger (it gains the user once connected). */
  readonly logger: Logger;
  /** The connection's user and token permissions. */
  readonly principal: Principal;
  /** The connection's identity as others see it. */
  readonly clientInfo: ClientInfo;
  readonly isClosed: boolean;
  /** The connection's side of the backend proxy, when one is configured. */
  readonly proxy?: SessionProxy | undefined;
  disconnect(disconnect: Disconnect, detail: string): void;
  /** Sends the answer to a command. */
  answer(reply: Reply): void;
}

/** Server-side subscriptions from a connection token, ready for the connect reply. */
export interface TokenSubscriptions {
  /** The connect result's `subs`, when there are any. */
  subs: Record<string, SubscribeResult> | undefined;
  /** Starts delivery and joins presence; call right after the connect reply was sent. */
  activate(): Promise<void>;
}

/**
 * The channel subscriptions of one session, whoever asked for them: the
 * client (`subscribe`, `unsubscribe`, `sub_refresh`), its connection token
 * (`channels` claim) or the server API. Keeps the order the SDK needs: a
 * channel's events reach the client only after it was told of the
 * subscription (reply or push), and none after it was told of its end.
 *
 * Callers run these one at a time per session (the session's command order),
 * so no two changes to the same channel interleave.
 */
export class SessionSubscriptions {
  private readonly byChannel = new Map<string, Subscription>();
  /**
   * Held events are delivered as pushes right after the reply: at most half
   * the push bound for the whole session, so delivering them is no
   * slow-reader close, however many subscriptions are made at once.
   */
  private readonly holdBudget: HoldBudget;
  /**
   * Channels whose subscriptions ended because too many events arrived while
   * they were made, with how many times in a row (see {@link goLive}). An
   * entry lasts until a subscription of the channel goes live, or until the
   * subscribe that skipped recovery for it.
   */
  private readonly overflows = new Map<string, number>();

  constructor(private readonly owner: SubscriptionOwner) {
    this.holdBudget = new HoldBudget(Math.floor(owner.node.config.maxQueuedBytes / 2), MAX_HELD_EVENTS);
  }

  get size(): number {
    return this.byChannel.size;
  }

  // ---- client commands ------------------------------------------------------

  async subscribe(id: number, request: CommandRequests['subscribe']): Promise<void> {
    const { node } = this.owner;
    const channel = node.channels.resolve(request.channel);
    if (this.byChannel.has(channel.name)) throw Errors.alreadySubscribed();
    if (this.byChannel.size >= node.config.maxChannelsPerConnection) {
      throw Errors.limitExceeded('too many subscriptions on this connection');
    }
    let info = this.owner.clientInfo;
    let expiresAt: number | undefined;
    let proxiedData: { value: unknown } | undefined;
    const viaToken = request.token !== undefined && request.token !== '';
    if (request.token) {
      const granted = await this.verifySubscriptionToken(request.token, channel.name);
      if (!granted || this.owner.isClosed) return;
      expiresAt = granted.expiresAt;
      if (granted.info !== undefined) info = { ...info, chan_info: granted.info };
    } else if (channel.options.proxySubscribe && this.owner.proxy) {
      // The backend decides instead of `allowSubscribe`; its error or disconnect is the answer.
      const granted = await this.owner.proxy.subscribe(channel.name, request);
      if (this.owner.isClosed) return;
      if (granted.info) info = { ...info, chan_info: granted.info.value };
      proxiedData = granted.data;
    } else if (!isAllowed('subscribe', channel, this.owner.principal)) {
      throw Errors.permissionDenied();
    }
    // Whatever granted the subscription (token, permission claim, namespace rule), the gate has the last word.
    await node.gates.check(this.owner.principal.user, channel, 'subscribe');
    if (this.owner.isClosed) return;
    // A delta type the namespace does not allow subscribes without delta, as the SDK then expects (no `delta` in the reply).
    const delta = request.delta !== undefined && channel.options.allowedDeltaTypes.includes(request.delta);
    const subscription = this.add(channel, info, viaToken, false, delta);
    subscription.expiresAt = expiresAt;
    const recovery = request.recover ? { offset: request.offset ?? 0, epoch: request.epoch ?? '' } : undefined;
    // After two overflows in a row, a third long recovery read would likely overflow again: answered as not recovered instead.
    const skipRecovery = (this.overflows.get(channel.name) ?? 0) >= OVERFLOWS_BEFORE_NO_RECOVERY;
    if (skipRecovery) this.overflows.delete(channel.name);
    const attached = await this.attach(subscription, skipRecovery ? undefined : recovery);
    if (this.owner.isClosed) return;
    const rejects = rejectsUnrecovered(request, channel);
    if (recovery) this.countRecovery(attached, rejects);
    if (recovery && rejects && attached.recovered !== true) {
      // The SDK asked for this with its `getState` option: it reloads the state and subscribes again from its new position.
      await this.remove(subscription);
      throw Errors.unrecoverablePosition('the missed publications cannot be recovered');
    }
    const result = resultOf(channel, attached, recovery !== undefined);
    if (proxiedData) result.data = JSON.stringify(proxiedData.value ?? null);
    const deltaBase = delta ? compressSubscribeResult(result, this.owner.codec, node.deltaPatch) : 0;
    const ttl = ttlSeconds(expiresAt);
    if (ttl !== undefined) Object.assign(result, { expires: true, ttl });
    this.owner.answer({ id, method: 'subscribe', result });
    if (!(await this.goLive(subscription, attached.position?.offset ?? 0, deltaBase))) return;
    this.scheduleExpiry(subscription);
    await this.join(subscription);
  }

  async subRefresh(id: number, request: CommandRequests['sub_refresh']): Promise<void> {
    const subscription = this.byChannel.get(request.channel);
    if (!subscription) throw Errors.badRequest('not subscribed to this channel');
    if (!subscription.viaToken) throw Errors.badRequest('subscription was not made with a token');
    const granted = await this.verifySubscriptionToken(request.token, request.channel);
    if (!granted || this.owner.isClosed) return;
    subscription.expiresAt = granted.expiresAt;
    this.scheduleExpiry(subscription);
    const ttl = ttlSeconds(granted.expiresAt);
    this.owner.answer({ id, method: 'sub_refresh', result: ttl === undefined ? {} : { expires: true, ttl } });
  }

  async unsubscribe(id: number, request: CommandRequests['unsubscribe']): Promise<Reply> {
    const subscription = this.byChannel.get(request.channel);
    if (subscription) await this.remove(subscription);
    return { id, method: 'unsubscribe', result: {} };
  }

  // ---- server-side subscriptions ---------------------------------------------

  /**
   * Subscribes to the token's `channels` (up to the subscription limit; names
   * that are not valid channels are skipped), recovering as the connect
   * command's `subs` asks. The recoveries go out in the one connect reply, so
   * they share one `recoveryMaxBytes` budget: a channel that does not fit
   * what is left gets `recovered: false`. `options` (the token's `subs`
   * claim, or the connect proxy's `subs`) give a channel the subscriber's
   * `chan_info` and `data` for the client's subscribe result. Undefined when
   * the session closed meanwhile.
   */
  async fromToken(
    names: readonly string[],
    recoveries: ConnectRequest['subs'],
    options?: ReadonlyMap<string, TokenSubscriptionOptions>,
  ): Promise<TokenSubscriptions | undefined> {
    const { node } = this.owner;
    const added: { subscription: Subscription; offset: number }[] = [];
    const subs: Record<string, SubscribeResult> = {};
    let budget = node.config.recoveryMaxBytes;
    for (const name of names.slice(0, node.config.maxChannelsPerConnection)) {
      let channel: ChannelSpec;
      try {
        channel = node.channels.resolve(name);
      } catch {
        this.owner.logger.warn({ channel: name }, 'token lists an invalid channel; skipped');
        continue;
      }
      if (this.byChannel.has(channel.name)) continue;
      if (!(await this.gateAllows(channel))) continue;
      if (this.owner.isClosed) return undefined;
      const asked = recoveries?.[channel.name];
      const recovery = asked?.recover ? { offset: asked.offset ?? 0, epoch: asked.epoch ?? '', maxBytes: budget } : undefined;
      const given = options?.get(channel.name);
      const info = given?.info === undefined ? this.owner.clientInfo : { ...this.owner.clientInfo, chan_info: given.info };
      const subscription = this.add(channel, info, false, true);
      const attached = await this.attach(subscription, recovery);
      if (this.owner.isClosed) return undefined;
      if (recovery) this.countRecovery(attached, false);
      const result = resultOf(channel, attached, recovery !== undefined);
      if (given?.data !== undefined) result.data = JSON.stringify(given.data);
      if (attached.publications) budget = Math.max(0, budget - recoveredBytes(attached.publications));
      subs[channel.name] = result;
      added.push({ subscription, offset: attached.position?.offset ?? 0 });
    }
    return {
      subs: added.length > 0 ? subs : undefined,
      activate: async () => {
        for (const { subscription, offset } of added) {
          if (await this.goLive(subscription, offset)) await this.join(subscription);
        }
      },
    };
  }

  /**
   * Subscribes on the server's authority (server API) and tells the client
   * with a `subscribe` push; recovered publications follow as `pub` pushes,
   * then live ones. False, changing nothing, when already subscribed, at the
   * subscription limit or closed.
   */
  async addFromServer(channel: ChannelSpec, options: ServerSubscribeOptions): Promise<boolean> {
    const { node, transport } = this.owner;
    if (this.owner.isClosed || this.byChannel.has(channel.name)) return false;
    if (this.byChannel.size >= node.config.maxChannelsPerConnection) {
      this.owner.logger.info({ channel: channel.name }, 'server subscribe skipped: connection at its subscription limit');
      return false;
    }
    const base = this.owner.clientInfo;
    const info = options.info === undefined ? base : { ...base, chan_info: options.info };
    const subscription = this.add(channel, info, false, true);
    const attached = await this.attach(subscription, options.recoverSince);
    if (this.owner.isClosed) return false;
    if (options.recoverSince) this.countRecovery(attached, false);
    const push: SubscribePush = {};
    if (attached.position) {
      if (channel.options.recover) push.recoverable = true;
      push.epoch = attached.position.epoch;
      push.offset = attached.position.offset;
    }
    if (options.data !== undefined) push.data = options.data;
    this.sendPush({ type: 'subscribe', channel: channel.name, subscribe: push });
    if (attached.recovered) {
      // Bounded by the recovery bound, like a subscribe reply's publications, and sent in one go like it.
      for (const pub of attached.publications ?? []) transport.reply(this.owner.codec.push({ type: 'pub', channel: channel.name, pub }));
    }
    if (!(await this.goLive(subscription, attached.position?.offset ?? 0))) return false;
    await this.join(subscription);
    return true;
  }

  /**
   * Ends a subscription (every one for `""`) on the server's authority and
   * tells the client with an `unsubscribe` push, sent once the subscription
   * no longer receives events so that nothing of the channel follows it.
   * Resolves with how many ended.
   */
  async removeFromServer(channel: string): Promise<number> {
    const targets = channel === '' ? [...this.byChannel.values()] : [this.byChannel.get(channel)];
    let ended = 0;
    for (const subscription of targets) {
      if (!subscription || this.owner.isClosed) continue;
      if (!(await this.remove(subscription))) continue;
      ended++;
      if (!this.owner.isClosed) {
        this.sendPush({ type: 'unsubscribe', channel: subscription.channel.name, ...SERVER_UNSUBSCRIBE });
      }
    }
    return ended;
  }

  /** Ends every subscription after the connection closed: detaches, leaves presence. Never rejects. */
  removeAll(): Promise<void> {
    const work = [...this.byChannel.values()].map((subscription) =>
      this.remove(subscription).then(
        () => undefined,
        (error: unknown) =>
          this.owner.logger.error({ err: error, channel: subscription.channel.name }, 'cleanup after disconnect failed'),
      ),
    );
    return Promise.all(work).then(() => undefined);
  }

  // ---- internals ---------------------------------------------------------------

  private sendPush(push: Push): void {
    this.owner.transport.send(this.owner.codec.push(push));
  }

  /** Whether the namespace's gate lets the user subscribe; a refusal is logged (token channels are skipped, not errors). */
  private async gateAllows(channel: ChannelSpec): Promise<boolean> {
    try {
      await this.owner.node.gates.check(this.owner.principal.user, channel, 'subscribe');
      return true;
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.owner.logger.info({ channel: channel.name, code: error.code }, 'token channel refused by its gate; skipped');
      return false;
    }
  }

  private async verifySubscriptionToken(token: string, channel: string): Promise<SubscriptionCredentials | undefined> {
    try {
      const granted = await this.owner.authenticator.subscription(token);
      if (granted.channel !== channel || granted.user !== this.owner.principal.user) {
        this.owner.logger.info({ channel }, 'subscription token for another channel or user');
        this.owner.disconnect(Disconnects.invalidToken, 'subscription token does not match');
        return undefined;
      }
      return granted;
    } catch (error) {
      const refused = tokenRefusal(error);
      this.owner.logger.info({ kind: refused.kind, channel }, 'subscription token refused');
      this.owner.disconnect(Disconnects.invalidToken, refused.message);
      return undefined;
    }
  }

  private add(channel: ChannelSpec, info: ClientInfo, viaToken: boolean, serverSide: boolean, delta = false): Subscription {
    // Held events are delivered as pushes right after the reply: at most half the push bound, so delivering them is no slow-reader close.
    const { transport, codec } = this.owner;
    const subscription = new Subscription(channel, info, viaToken, serverSide, { transport, codec, delta }, this.holdBudget, (reset) => {
      this.owner.logger.info({ channel: channel.name }, 'the channel stream was reset; the client subscribes again');
      this.startOver(reset).catch((error: unknown) =>
        this.owner.logger.error({ err: error, channel: channel.name }, 'ending a reset subscription failed'),
      );
    });
    this.byChannel.set(channel.name, subscription);
    return subscription;
  }

  /** Attaches to the node; undoes the subscription on failure. */
  private async attach(subscription: Subscription, recovery: RecoveryRequest | undefined): Promise<AttachResult> {
    try {
      return await this.owner.node.attach(subscription.channel, subscription, recovery);
    } catch (error) {
      this.byChannel.delete(subscription.channel.name);
      subscription.release();
      await this.owner.node.detach(subscription.channel.name, subscription).catch(() => undefined);
      throw error;
    }
  }

  /** Counts how a subscribe that asked for recovery ended (`rejects`: an unrecovered one is answered with error 112). */
  private countRecovery(attached: AttachResult, rejects: boolean): void {
    this.owner.node.metrics.recovery(attached.recovered === true ? 'recovered' : rejects ? 'rejected' : 'not_recovered');
  }

  /**
   * Starts delivery once the client was told of the subscription. When more
   * events arrived meanwhile than could be held, the client is made to
   * subscribe again from the position it was given, recovering them from
   * history: a client subscription is ended with an `unsubscribe` push that
   * the SDK answers with a resubscribe; a server-side one (which the client
   * cannot resubscribe) by a reconnect. After the second overflow of a
   * channel in a row, its next subscribe is answered without a recovery read
   * (`recovered: false`, or error 112 with `rejectUnrecovered`), so that a
   * busy channel and a slow store cannot make the two loop. Resolves whether
   * delivery is live. `deltaBase`: see {@link Subscription.goLive}.
   */
  private async goLive(subscription: Subscription, offset: number, deltaBase = 0): Promise<boolean> {
    const channel = subscription.channel.name;
    if (subscription.goLive(offset, deltaBase) === 'live') {
      if (this.overflows.size > 0) this.overflows.delete(channel);
      return true;
    }
    this.owner.logger.info({ channel }, 'too many events arrived during subscribe; the client subscribes again');
    if (!subscription.serverSide && (this.overflows.has(channel) || this.overflows.size < this.owner.node.config.maxChannelsPerConnection)) {
      this.overflows.set(channel, (this.overflows.get(channel) ?? 0) + 1);
    }
    await this.startOver(subscription);
    return false;
  }

  /**
   * Makes the client subscribe again from the position it has, recovering
   * what it missed from history: a client subscription is ended with an
   * `unsubscribe` push that the SDK answers with a resubscribe; a
   * server-side one (which the client cannot resubscribe) by a reconnect.
   */
  private async startOver(subscription: Subscription): Promise<void> {
    const channel = subscription.channel.name;
    if (subscription.serverSide) {
      this.owner.disconnect(Disconnects.insufficientState, `missed events of ${channel}`);
      return;
    }
    if ((await this.remove(subscription)) && !this.owner.isClosed) {
      this.sendPush({ type: 'unsubscribe', channel, ...RESUBSCRIBE_UNSUBSCRIBE });
    }
  }

  private async join(subscription: Subscription): Promise<void> {
    if (this.owner.isClosed || this.byChannel.get(subscription.channel.name) !== subscription) return;
    subscription.joined = true;
    await this.owner.node.join(subscription.channel, subscription.info);
  }

  /** Resolves whether this call ended the subscription (false when it was already gone). */
  private async remove(subscription: Subscription): Promise<boolean> {
    const channel = subscription.channel;
    if (this.byChannel.get(channel.name) !== subscription) return false;
    this.byChannel.delete(channel.name);
    subscription.release();
    clearTimeout(subscription.expiryTimer);
    await this.owner.node.detach(channel.name, subscription);
    if (subscription.joined) await this.owner.node.leave(channel, subscription.info);
    return true;
  }

  private scheduleExpiry(subscription: Subscription): void {
    clearTimeout(subscription.expiryTimer);
    const expiresAt = subscription.expiresAt;
    if (expiresAt === undefined) return;
    subscription.expiryTimer = setTimeout(() => {
      const current = subscription.expiresAt;
      if (current !== undefined && current * 1000 <= Date.now()) {
        this.owner.disconnect(Disconnects.subExpired, subscription.channel.name);
      }
    }, closeDelayMs(expiresAt));
    subscription.expiryTimer.unref();
  }
}

/**
 * Whether a failed recovery must be answered with error 112 rather than
 * `recovered: false`: the client set the flag, and the channel is one that
 * recovers (elsewhere 112 would only bring the same request back).
 */
function rejectsUnrecovered(request: CommandRequests['subscribe'], channel: ChannelSpec): boolean {
  return ((request.flag ?? 0) & SubscribeFlags.rejectUnrecovered) !== 0 && channel.historyEnabled && channel.options.recover;
}

/** The subscribe result (client reply, or an entry of the connect reply's `subs`) for an attached channel. */
function resultOf(channel: ChannelSpec, attached: AttachResult, recovering: boolean): SubscribeResult {
  const result: SubscribeResult = {};
  if (attached.position) {
    if (channel.options.recover) result.recoverable = true;
    result.epoch = attached.position.epoch;
    result.offset = attached.position.offset;
  }
  if (recovering) {
    result.was_recovering = true;
    result.recovered = attached.recovered === true;
    if (attached.publications && attached.publications.length > 0) {
      result.publications = attached.publications;
    }
  }
  return result;
}

/**
 * What a recovery spends of the connection's budget, weighed as the store
 * weighs a page (`publicationBytes`): measured without encoding the reply,
 * which is encoded once, when it is sent.
 */
function recoveredBytes(publications: readonly Publication[]): number {
  let bytes = 0;
  for (const pub of publications) {
    bytes += publicationBytes(pub.data, pub.info === undefined ? undefined : JSON.stringify(pub.info), pub.tags === undefined ? undefined : JSON.stringify(pub.tags));
  }
  return bytes;
}
