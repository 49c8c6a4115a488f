/**
 * A cluster under failure, with real processes and real services: a node
 * killed with SIGKILL mid-traffic, a Redis restart (it keeps nothing on
 * disk), a PostgreSQL restart mid-publish, reconnect races. Each test runs
 * its own Redis (and PostgreSQL when it restarts it), never the machine's.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { apiCall, apiResult } from './helpers/api.js';
import { TestCluster } from './helpers/cluster.js';
import { FAST_PUBLISH_FLAGS, FEED_NAMESPACE, assertExactStream } from './helpers/cluster-checks.js';
import { PrivatePostgres } from './helpers/private-postgres.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { connectClient, disconnectAll, eventsOf, makeSubscription, subscribe, subscribeExisting, type TestSubscription } from './helpers/sdk.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const FILE = { namespaces: { feed: FEED_NAMESPACE } };

/** Publishes `{n}` for n = from..to through the given node's API, one at a time, retrying temporary failures with the same idempotency key. */
async function publishSeries(target: { port: number }, channel: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    for (let attempt = 0; ; attempt++) {
      const answer = await apiCall(target, 'publish', { channel, data: { n }, idempotency_key: `n${n}` }).catch((error: unknown) => ({
        status: 0,
        body: undefined,
        text: String(error),
      }));
      if (answer.status === 200 && answer.body?.result) break;
      if (attempt > 400) throw new Error(`publish ${n} kept failing: ${answer.status} ${answer.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('cluster: failures', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    disconnectAll();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  after(() => disconnectAll());

  async function cluster(nodes: number, redisUrl: string, postgresUrl?: string): Promise<TestCluster> {
    const made = await TestCluster.start({ nodes, redisUrl, ...(postgresUrl ? { postgresUrl } : {}), flags: FAST_PUBLISH_FLAGS, file: FILE });
    cleanups.push(() => made.close());
    return made;
  }

  async function privateRedis(): Promise<PrivateRedis> {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    return redis;
  }

  test('a node killed with SIGKILL mid-traffic: its clients reconnect through the balancer and recover exactly', async () => {
    const redis = await privateRedis();
    const nodes = await cluster(3, redis.url);
    const channel = 'feed:kill';
    const TOTAL = 600;
    const subscriptions: TestSubscription[] = [];
    // Six clients through the balancer: two land on each node.
    for (let i = 0; i < 6; i++) {
      const client = await connectClient(nodes.wsUrl, { token: await mintToken({ sub: `reader${i}` }) });
      subscriptions.push(await subscribe(client.client, channel));
    }
    const victim = nodes.nodes[0]!;
    const publisher = nodes.nodes[1]!;
    const publishing = publishSeries(publisher, channel, 1, TOTAL);
    await waitFor(() => subscriptions.every((s) => s.publications.length >= 100), { timeoutMs: 20_000, message: 'traffic flows' });
    await victim.kill();
    await publishing;
    for (const [i, made] of subscriptions.entries()) {
      await waitFor(() => made.publications.length >= TOTAL, { timeoutMs: 30_000, message: `reader ${i} has all ${TOTAL}` });
      assertExactStream(made, TOTAL, `reader ${i}`);
      for (const ctx of made.of('subscribed').slice(1)) {
        assert.equal(ctx.recovered, true, `reader ${i} recovered on its new node`);
        assert.equal(ctx.streamPosition.epoch, made.of('subscribed')[0].streamPosition.epoch, 'same epoch on every node');
      }
    }
    const moved = subscriptions.filter((s) => s.of('subscribed').length > 1).length;
    assert.ok(moved >= 2, `the killed node's clients moved (${moved} resubscribed)`);
  });

  test('Redis restarts mid-traffic: nothing lost, no epoch change, live delivery resumes by itself', async () => {
    const redis = await privateRedis();
    const nodes = await cluster(2, redis.url);
    const channel = 'feed:redis-restart';
    const TOTAL = 400;
    const [a, b] = nodes.nodes;
    const readerA = await subscribe((await connectClient(a!.wsUrl, { token: await mintToken({ sub: 'ra' }) })).client, channel);
    const readerB = await subscribe((await connectClient(b!.wsUrl, { token: await mintToken({ sub: 'rb' }) })).client, channel);
    const publishing = publishSeries(a!, channel, 1, TOTAL);
    await waitFor(() => readerB.publications.length >= 50, { timeoutMs: 20_000, message: 'traffic flows' });
    await redis.restart();
    await publishing;
    for (const [label, made] of [['A', readerA], ['B', readerB]] as const) {
      await waitFor(() => made.publications.length >= TOTAL, { timeoutMs: 30_000, message: `reader on ${label} has all ${TOTAL}` });
      assertExactStream(made, TOTAL, `reader on ${label}`);
    }
    // Live delivery after the restart, without any client reconnecting.
    await apiResult(b!, 'publish', { channel, data: { n: TOTAL + 1 } });
    await waitFor(() => readerA.publications.length === TOTAL + 1, { message: 'a new publication on B reaches A' });
    assert.equal(readerA.of('subscribed').length, 1, 'A never had to resubscribe');
    const position = await apiResult<{ epoch: string }>(b!, 'history', { channel, limit: 0 });
    assert.equal(position.epoch, readerA.subscribed.streamPosition?.epoch, 'the epoch is unchanged');
    // Presence is repopulated by the nodes at once, not after the refresh period.
    await waitFor(async () => (await apiResult<{ num_clients: number }>(b!, 'presence_stats', { channel })).num_clients === 2, {
      timeoutMs: 5000,
      message: 'presence is back after the Redis restart',
    });
  });

  test('PostgreSQL restarts mid-publish: publishes fail temporarily, are retried, and each is stored once with no offset hole', async () => {
    const redis = await privateRedis();
    const pg = await PrivatePostgres.start();
    cleanups.push(() => pg.stop());
    const admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
    await admin`CREATE DATABASE parley`;
    await admin.end();
    const nodes = await cluster(2, redis.url, pg.url.replace(/\/postgres$/, '/parley'));
    const channel = 'feed:pg-restart';
    const TOTAL = 300;
    const reader = await subscribe((await connectClient(nodes.nodes[1]!.wsUrl, { token: await mintToken({ sub: 'r' }) })).client, channel);
    const publishing = publishSeries(nodes.nodes[0]!, channel, 1, TOTAL);
    await waitFor(() => reader.publications.length >= 50, { timeoutMs: 20_000, message: 'traffic flows' });
    pg.restart();
    await publishing;
    await waitFor(() => reader.publications.length >= TOTAL, { timeoutMs: 30_000, message: `reader has all ${TOTAL}` });
    assertExactStream(reader, TOTAL, 'reader');
    assert.deepEqual(reader.publications.map((p) => p.data.n), Array.from({ length: TOTAL }, (_, i) => i + 1), 'each message once, in order');
  });

  test('reconnecting within 100 ms, and before any publication, recovers; five reconnects without news deliver no duplicates', async () => {
    const redis = await privateRedis();
    const nodes = await cluster(2, redis.url);
    const channel = 'feed:quick';
    const client = await connectClient(nodes.wsUrl, { token: await mintToken({ sub: 'q' }) });
    const made = makeSubscription(client.client, channel);
    await subscribeExisting(made);
    // Before any publication: the subscribe reply carries offset 0 and the epoch, enough to recover.
    for (let i = 0; i < 5; i++) {
      client.client.disconnect();
      client.client.connect();
      await eventsOf(made, 'subscribed', i + 2, 10_000);
    }
    assert.equal(made.publications.length, 0, 'nothing invented');
    await apiResult(nodes.nodes[0]!, 'publish', { channel, data: { n: 1 } });
    await waitFor(() => made.publications.length === 1, { message: 'the first publication arrives' });
    for (let i = 0; i < 5; i++) {
      client.client.disconnect();
      client.client.connect();
      await eventsOf(made, 'subscribed', i + 7, 10_000);
    }
    await apiResult(nodes.nodes[1]!, 'publish', { channel, data: { n: 2 } });
    await waitFor(() => made.publications.length >= 2, { message: 'the second publication arrives' });
    assertExactStream(made, 2, 'after ten reconnects');
    for (const ctx of made.of('subscribed').slice(1)) assert.equal(ctx.recovered, true);
  });
});
