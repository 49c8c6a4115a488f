import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import { answerOf, askSelf, infoOf, type Answerer, type AskResult, type Cluster, type ClusterMember, type NodeInfo, type SurveyResult } from './cluster.js';

/** What `RedisCluster` needs to publish: a connected node-redis client fits. */
export interface ClusterPublisher {
  publish(channel: string, message: string): Promise<unknown>;
  /** False while the connection is down: messages are then dropped rather than queued (a stale heartbeat is worse than none). */
  readonly isReady?: boolean;
}

/** What `RedisCluster` needs to listen: a node-redis client dedicated to PUB/SUB (`client.duplicate()`) fits. */
export interface ClusterSubscriber {
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** False while the connection is down: then nobody can be heard, and nobody is evicted. */
  readonly isReady?: boolean;
}

/** Options of {@link RedisCluster}. */
export interface RedisClusterOptions {
  /** Prefix of the control channels; deployments sharing a Redis use different ones. @default 'parley:cluster:' */
  prefix?: string;
  /** How often this node announces itself, ms. @default 3000 */
  heartbeatMs?: number;
  /** A node not heard from for this long is evicted, ms (two heartbeats and a second). @default 7000 */
  evictAfterMs?: number;
  /** How long a survey waits for the other nodes, ms. @default 2500 */
  surveyTimeoutMs?: number;
  /** Where failures to reach Redis are reported. */
  logger?: Logger;
}

/** A control message. Everything received is checked: a malformed message is ignored. */
type Message =
  | { type: 'heartbeat'; node: NodeInfo; reply?: boolean }
  | { type: 'shutdown'; from: string }
  | { type: 'survey'; from: string; id: string; question: string; payload: unknown }
  | { type: 'reply'; from: string; id: string; ok: boolean; answer?: unknown };

interface PendingSurvey {
  waiting: Set<string>;
  answers: Array<{ node: string; answer: unknown }>;
  missing: string[];
  finish: () => void;
}

/**
 * The cluster over Redis PUB/SUB, in Centrifuge's layout: one broadcast
 * channel `<prefix>control` (heartbeats, shutdowns, survey questions) and
 * one channel per node `<prefix>node:<id>` (survey replies, and the
 * heartbeat a newcomer is answered with at once so it learns the registry
 * without waiting a period). Everything is at most once, like PUB/SUB.
 *
 * Eviction is checked every heartbeat, so a silent node is gone between
 * `evictAfterMs` and `evictAfterMs + heartbeatMs` after its last heartbeat.
 * While this node's connection to Redis is down it sends nothing and evicts
 * nobody (the silence is its own), and once back it gives every node a full
 * eviction time to be heard again: a Redis restart evicts no one that is
 * alive. Nodes that can reach Redis evict a node cut off from it alone.
 * node-redis resubscribes on reconnect and the next heartbeat brings the
 * node back. The clients are the caller's: `close` leaves them open.
 */
export class RedisCluster implements Cluster {
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly evictAfterMs: number;
  private readonly surveyTimeoutMs: number;
  get questionTimeoutMs(): number {
    return this.surveyTimeoutMs;
  }
  private readonly answerers = new Map<string, Answerer>();
  private readonly others = new Map<string, { info: NodeInfo; heardAt: number }>();
  private readonly pending = new Map<string, PendingSurvey>();
  private readonly evictionListeners: Array<(nodeId: string) => void> = [];
  private self: ClusterMember | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set while this node's own connection to Redis is down. */
  private cutOff = false;

  constructor(
    private readonly publisher: ClusterPublisher,
    private readonly subscriber: ClusterSubscriber,
    private readonly options: RedisClusterOptions = {},
  ) {
    this.prefix = options.prefix ?? 'parley:cluster:';
    this.heartbeatMs = options.heartbeatMs ?? 3_000;
    this.evictAfterMs = options.evictAfterMs ?? 7_000;
    this.surveyTimeoutMs = options.surveyTimeoutMs ?? 2_500;
  }

  private get controlChannel(): string {
    return `${this.prefix}control`;
  }

  private nodeChannel(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  async start(self: ClusterMember): Promise<void> {
    this.self = self;
    const listener = (message: string) => this.receive(message);
    await this.subscriber.subscribe(this.controlChannel, listener);
    await this.subscriber.subscribe(this.nodeChannel(self.id), listener);
    await this.send(this.controlChannel, this.heartbeat());
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  nodes(): NodeInfo[] {
    if (!this.self) return [];
    return [infoOf(this.self), ...[...this.others.values()].map(({ info }) => info)];
  }

  answer(question: string, answerer: Answerer): void {
    this.answerers.set(question, answerer);
  }

  async survey(question: string, payload?: unknown): Promise<SurveyResult> {
    const selfId = this.self?.id ?? '';
    const asked = this.asking(new Set(this.closed ? [] : this.others.keys()), this.controlChannel, question, payload);
    const own = await answerOf(this.answerers.get(question), payload ?? null);
    const survey = await asked;
    if (own.ok) survey.answers.unshift({ node: selfId, answer: own.answer });
    else survey.missing.unshift(selfId);
    return { answers: survey.answers, partial: survey.missing.length > 0, missing: survey.missing };
  }

  async ask(nodeId: string, question: string, payload?: unknown): Promise<AskResult> {
    if (this.self && nodeId === this.self.id) return askSelf(this.answerers.get(question), payload ?? null);
    if (this.closed || !this.others.has(nodeId)) return { ok: false, reason: 'unknown-node' };
    // The question goes on the node's own channel: only it hears it, and it replies as to a survey.
    const { answers } = await this.asking(new Set([nodeId]), this.nodeChannel(nodeId), question, payload);
    const answer = answers[0];
    return answer ? { ok: true, answer: answer.answer } : { ok: false, reason: 'no-answer' };
  }

  /**
   * Sends a question on `channel` and waits, up to the survey timeout, for
   * the replies of the nodes in `waiting`; resolves with their answers and
   * the ids of those that did not answer.
   */
  private async asking(waiting: Set<string>, channel: string, question: string, payload: unknown): Promise<{ answers: PendingSurvey['answers']; missing: string[] }> {
    if (waiting.size === 0) return { answers: [], missing: [] };
    const id = randomUUID();
    const survey: PendingSurvey = { waiting, answers: [], missing: [], finish: () => undefined };
    const done = new Promise<void>((resolve) => {
      survey.finish = resolve;
    });
    this.pending.set(id, survey);
    const timeout = setTimeout(() => survey.finish(), this.surveyTimeoutMs);
    void this.send(channel, { type: 'survey', from: this.self?.id ?? '', id, question, payload: payload ?? null });
    await done;
    clearTimeout(timeout);
    this.pending.delete(id);
    survey.missing.push(...waiting);
    return { answers: survey.answers, missing: survey.missing };
  }

  onEvicted(listener: (nodeId: string) => void): void {
    this.evictionListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed || !this.self) {
      this.closed = true;
      return;
    }
    this.closed = true;
    clearInterval(this.timer);
    for (const survey of this.pending.values()) survey.finish();
    this.others.clear();
    // Bounded: a shutdown must not wait for a Redis that is not there.
    await Promise.race([this.send(this.controlChannel, { type: 'shutdown', from: this.self.id }), delay(this.surveyTimeoutMs, undefined, { ref: false })]);
    // Not awaited: node-redis never settles an unsubscribe on a client that was destroyed, and
    // messages arriving meanwhile are ignored (closed).
    for (const channel of [this.controlChannel, this.nodeChannel(this.self.id)]) this.subscriber.unsubscribe(channel).catch(() => undefined);
  }

  private heartbeat(reply = false): Message {
    return { type: 'heartbeat', node: infoOf(this.self as ClusterMember), ...(reply ? { reply } : {}) };
  }

  private tick(): void {
    void this.send(this.controlChannel, this.heartbeat());
    const now = Date.now();
    if (this.publisher.isReady === false || this.subscriber.isReady === false) {
      // The silence is this node's own: evicting the others now would purge live nodes' presence.
      if (!this.cutOff) this.options.logger?.warn('cluster bus unreachable: no node is evicted until it is back');
      this.cutOff = true;
      return;
    }
    if (this.cutOff) {
      // Back on the bus: everyone gets a full eviction time to be heard again.
      this.cutOff = false;
      for (const entry of this.others.values()) entry.heardAt = now;
      return;
    }
    for (const [id, { heardAt }] of this.others) {
      if (now - heardAt <= this.evictAfterMs) continue;
      this.others.delete(id);
      this.notAnswering(id);
      for (const listener of this.evictionListeners) {
        try {
          listener(id);
        } catch (error) {
          this.options.logger?.error({ err: error, node: id }, 'node eviction listener failed');
        }
      }
    }
  }

  /** A node that left or died answers no survey still waiting for it. */
  private notAnswering(id: string): void {
    for (const survey of this.pending.values()) {
      if (survey.waiting.delete(id)) {
        survey.missing.push(id);
        if (survey.waiting.size === 0) survey.finish();
      }
    }
  }

  private receive(raw: string): void {
    if (this.closed || !this.self) return;
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    const selfId = this.self.id;
    switch (message?.type) {
      case 'heartbeat': {
        const info = message.node;
        if (typeof info?.id !== 'string' || info.id === selfId) return;
        const known = this.others.has(info.id);
        this.others.set(info.id, { info, heardAt: Date.now() });
        if (!known && !message.reply) void this.send(this.nodeChannel(info.id), this.heartbeat(true));
        return;
      }
      case 'shutdown':
        if (typeof message.from === 'string' && this.others.delete(message.from)) this.notAnswering(message.from);
        return;
      case 'survey':
        if (typeof message.from === 'string' && message.from !== selfId && typeof message.question === 'string') void this.reply(message);
        return;
      case 'reply': {
        const survey = this.pending.get(message.id);
        if (!survey || !survey.waiting.delete(message.from)) return;
        if (message.ok) survey.answers.push({ node: message.from, answer: message.answer });
        else survey.missing.push(message.from);
        if (survey.waiting.size === 0) survey.finish();
        return;
      }
      default:
    }
  }

  private async reply(question: Extract<Message, { type: 'survey' }>): Promise<void> {
    const result = await answerOf(this.answerers.get(question.question), question.payload);
    if (!result.ok) this.options.logger?.warn({ err: result.error, question: question.question }, 'cluster survey not answered');
    const reply: Message = { type: 'reply', from: (this.self as ClusterMember).id, id: question.id, ok: result.ok, ...(result.ok ? { answer: result.answer ?? null } : {}) };
    await this.send(this.nodeChannel(question.from), reply);
  }

  private async send(channel: string, message: Message): Promise<void> {
    if (this.publisher.isReady === false) return;
    try {
      await this.publisher.publish(channel, JSON.stringify(message));
    } catch (error) {
      this.options.logger?.warn({ err: error, type: message.type }, 'cluster control message not sent');
    }
  }
}
