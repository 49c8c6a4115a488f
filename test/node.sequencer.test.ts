/**
 * Two nodes in one process, as a cluster: each with its own PostgresStore on
 * one database and its own RedisBroker on the shared Redis. Publications
 * reach subscribers on both nodes in offset order, dense, even when the bus
 * loses some of them (repaired from the store by gap or by sweep).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Broker, BrokerHandler } from '../src/broker/broker.js';
import { ChannelResolver } from '../src/channel/channel.js';
import { loadConfig } from '../src/config/schema.js';
import { Node, type ChannelListener } from '../src/node/node.js';
import { MemoryPresence } from '../src/presence/memory-presence.js';
import type { ClientInfo, Publication } from '../src/protocol/types.js';
import { PostgresStore } from '../src/store/postgres-store.js';
import { apiResult } from './helpers/api.js';
import { capturingLogger } from './helpers/log-capture.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { connectRedisBroker, type TestRedisBroker } from './helpers/redis-broker.js';
import { uniquePrefix } from './helpers/redis-service.js';
import { connectClient, disconnectAll, eventsOf, offsetsOf, publicationsAfterSubscribed, range, subscribe, type TestSubscription } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const SERVER_OPTIONS = {
  flags: ['--command-rate-limit', '100000', '--command-burst', '100000'],
  file: { namespaces: { feed: { historySize: 10_000, recover: true } } },
};

/** Passes everything through to the real broker except the stored publications `drops` picks. */
class LossyBroker implements Broker {
  /** Offsets of the publications not carried. */
  readonly dropped: number[] = [];
  constructor(
    private readonly inner: Broker,
    private readonly drops: (publication: Publication) => boolean,
  ) {}
  setHandler(handler: BrokerHandler): void {
    this.inner.setHandler(handler);
  }
  async publish(channel: string, publication: Publication): Promise<void> {
    if (publication.offset !== undefined && this.drops(publication)) {
      this.dropped.push(publication.offset);
      return;
    }
    await this.inner.publish(channel, publication);
  }
  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.inner.publishJoin(channel, info);
  }
  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.inner.publishLeave(channel, info);
  }
  subscribe(channel: string): Promise<void> {
    return this.inner.subscribe(channel);
  }
  unsubscribe(channel: string): Promise<void> {
    return this.inner.unsubscribe(channel);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface ClusterNode {
  ts: TestServer;
  bus: TestRedisBroker;
}

describe('node-level ordering and repair across two nodes', () => {
  let db: TestDatabase;
  let token: string;
  let nodes: ClusterNode[] = [];

  before(async () => {
    db = await createTestDatabase();
    token = await mintToken({ sub: 'reader' });
  });
  afterEach(async () => {
    disconnectAll();
    for (const { ts, bus } of nodes) {
      await ts.stop();
      await bus.close();
    }
    nodes = [];
  });
  after(async () => {
    await db?.drop();
  });

  /** Starts one node per entry; `wrap` may put a fault in front of a node's broker. */
  async function startCluster(wraps: ((broker: Broker) => Broker)[]): Promise<ClusterNode[]> {
    const schema = await db.createSchema();
    const prefix = uniquePrefix('cluster');
    for (const wrap of wraps) {
      const bus = await connectRedisBroker(prefix, capturingLogger().logger);
      const parts = { store: new PostgresStore({ sql: db.client(schema) }), broker: wrap(bus.broker), presence: new MemoryPresence() };
      nodes.push({ ts: await startTestServer({ ...SERVER_OPTIONS, parts }), bus });
    }
    return nodes;
  }

  /** Subscribes one SDK reader per node to the channel. */
  async function readers(channel: string, cluster: ClusterNode[]): Promise<TestSubscription[]> {
    return Promise.all(
      cluster.map(async ({ ts }) => {
        const reader = await connectClient(ts.wsUrl, { token });
        return subscribe(reader.client, channel);
      }),
    );
  }

  function assertAllInOrder(subscriptions: TestSubscription[], count: number): void {
    const first = subscriptions[0]!.publications.map((p) => JSON.stringify(p.data));
    for (const [i, sub] of subscriptions.entries()) {
      assert.deepEqual(offsetsOf(sub.publications), range(1, count), `reader ${i} sees every offset once, in order`);
      assert.deepEqual(sub.publications.map((p) => JSON.stringify(p.data)), first, `reader ${i} sees the same order`);
    }
  }

  const same = (broker: Broker) => broker;

  test('a publication on node A reaches a subscriber on node B', async () => {
    const [a, b] = await startCluster([same, same]);
    const [onB] = await readers('feed:hello', [b!]);
    const publisher = await connectClient(a!.ts.wsUrl, { token: await mintToken({ sub: 'writer' }) });
    await publisher.client.publish('feed:hello', { text: 'hi from A' });
    await waitFor(() => onB!.publications.length === 1, { message: 'B receives the publication' });
    assert.deepEqual(onB!.publications[0]!.data, { text: 'hi from A' });
    assert.equal(onB!.publications[0]!.offset, 1);
  });

  test('three publishers on both nodes at once: every subscriber on each node sees offsets 1..N dense and in the same order', async () => {
    const cluster = await startCluster([same, same]);
    const channel = 'feed:busy';
    const subs = [...(await readers(channel, cluster)), ...(await readers(channel, cluster))];
    const perPublisher = 40;
    const publishers = await Promise.all(
      [0, 1, 0].map(async (node, i) => ({ i, client: (await connectClient(cluster[node]!.ts.wsUrl, { token: await mintToken({ sub: `w${i}` }) })).client })),
    );
    await Promise.all(
      publishers.map(async ({ i, client }) => {
        for (let n = 0; n < perPublisher; n++) await client.publish(channel, { from: i, n });
      }),
    );
    const total = 3 * perPublisher;
    await waitFor(() => subs.every((sub) => sub.publications.length >= total), { timeoutMs: 10_000, message: 'every reader has all publications' });
    assertAllInOrder(subs, total);
  });

  test('publications the bus lost are filled from the store, in order, on both nodes', async () => {
    let lossy: LossyBroker | undefined;
    const cluster = await startCluster([(broker) => (lossy = new LossyBroker(broker, (p) => (p.offset as number) % 3 === 0)), same]);
    const channel = 'feed:lossy';
    const subs = await readers(channel, cluster);
    const publisher = await connectClient(cluster[0]!.ts.wsUrl, { token: await mintToken({ sub: 'writer' }) });
    const total = 31; // the last one (31) is carried, so every dropped one is followed by a gap
    for (let n = 1; n <= total; n++) await publisher.client.publish(channel, { n });
    await waitFor(() => subs.every((sub) => sub.publications.length >= total), { message: 'gaps repaired on both nodes' });
    assert.deepEqual(lossy!.dropped, range(1, 10).map((k) => 3 * k), 'the bus really lost every third publication');
    assertAllInOrder(subs, total);
  });

  test('a last publication that never reached the bus is delivered by the sweep', async () => {
    const total = 5;
    const cluster = await startCluster([(broker) => new LossyBroker(broker, (p) => p.offset === total), same]);
    const channel = 'feed:sweep';
    const subs = await readers(channel, cluster);
    const publisher = await connectClient(cluster[0]!.ts.wsUrl, { token: await mintToken({ sub: 'writer' }) });
    for (let n = 1; n <= total; n++) await publisher.client.publish(channel, { n });
    await waitFor(() => subs.every((sub) => sub.publications.length >= total - 1), { message: 'the carried ones arrive' });
    // Nothing follows the lost one, so no gap reveals it: only the sweep of idle channels (every ~5 s) does.
    await waitFor(() => subs.every((sub) => sub.publications.length >= total), { timeoutMs: 15_000, message: 'the sweep delivers the lost last one' });
    assertAllInOrder(subs, total);
  });

  test('a new epoch (history removed on one node) makes subscribers on both nodes subscribe again; they go on under it', async () => {
    const cluster = await startCluster([same, same]);
    const channel = 'feed:epoch';
    const subs = await readers(channel, cluster);
    const first = await apiResult(cluster[0]!.ts, 'publish', { channel, data: { n: 1 } });
    await waitFor(() => subs.every((sub) => sub.publications.length === 1));
    await apiResult(cluster[0]!.ts, 'history_remove', { channel });
    const renewed = await apiResult(cluster[0]!.ts, 'publish', { channel, data: { n: 2 } });
    assert.notEqual(renewed.epoch, first.epoch);
    for (const sub of subs) {
      const [, again] = await eventsOf(sub, 'subscribed', 2);
      assert.equal(again.streamPosition.epoch, renewed.epoch, 'subscribed again under the new epoch');
      assert.equal(again.recovered, false, 'the old position could not be recovered');
    }
    await apiResult(cluster[1]!.ts, 'publish', { channel, data: { n: 3 } });
    await waitFor(() => subs.every((sub) => publicationsAfterSubscribed(sub, 2).length === 1), { message: 'live again after the resubscribe' });
    // The first publication of the new epoch predates the new subscription: the reply's position covers it.
    for (const sub of subs) assert.deepEqual(sub.publications.map((p) => p.data.n), [1, 3]);
  });
});

describe('resync after the bus comes back', () => {
  test('a node whose Redis restarted reads what it missed from the store at once, without waiting for a sweep', async () => {
    const db = await createTestDatabase();
    const redis = await PrivateRedis.start();
    const prefix = uniquePrefix('resync');
    const { logger, lines } = capturingLogger();
    const bus = await connectRedisBroker(prefix, logger, { url: redis.url });
    const sql = db.client();
    const store = new PostgresStore({ sql });
    const config = await loadConfig({ argv: [], env: {}, cwd: '/tmp' });
    // Sweeps so rare that only the resync can deliver what the bus never carried.
    const node = new Node({
      config,
      store,
      broker: bus.broker,
      presence: new MemoryPresence(),
      channels: new ChannelResolver(config),
      logger,
      sequencing: { sweepIntervalMs: 3_600_000, idleMs: 3_600_000 },
    });
    try {
      await store.open();
      node.start();
      const channel = node.channels.resolve('room:resync');
      const received: Publication[] = [];
      const listener: ChannelListener = { onPublication: (_c, publication) => received.push(publication), onJoinLeave: () => undefined };
      await node.attach(channel, listener);
      await node.publish(channel, { data: '1' });
      await waitFor(() => received.length === 1);

      await redis.kill();
      // Committed while the bus is down, by a node that never got to PUBLISH it.
      await store.append(channel.name, [{ data: '2' }, { data: '3' }], { size: 1000, ttlMs: 0 });
      await redis.resume();
      await waitFor(() => received.length === 3, { timeoutMs: 10_000, message: 'the missed ones after the reconnect' });
      assert.deepEqual(offsetsOf(received), [1, 2, 3]);
      assert.ok(lines.some((line) => line.includes('checking every channel against the store')));

      await node.publish(channel, { data: '4' });
      await waitFor(() => received.length === 4, { message: 'live delivery resumes' });
      assert.deepEqual(received.map((p) => p.data), ['1', '2', '3', '4']);
    } finally {
      await node.close();
      await store.close();
      await bus.close();
      await redis.stop();
      await db.drop();
    }
  });
});
