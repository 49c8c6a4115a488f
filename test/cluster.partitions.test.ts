/**
 * A cluster node cut off from one service, and a node that dies: what the
 * other nodes and the clients see. Nodes are separate processes on a private
 * Redis and a fresh PostgreSQL database; a node's connections to Redis or
 * PostgreSQL go through TCP proxies of its own, so one node alone can be cut
 * off from one service.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, apiResult } from './helpers/api.js';
import { TestCluster, type ClusterNode } from './helpers/cluster.js';
import { FAST_PUBLISH_FLAGS, FEED_NAMESPACE, assertExactStream } from './helpers/cluster-checks.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { connectClient, disconnectAll, subscribe, type TestSubscription } from './helpers/sdk.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const FILE = { namespaces: { feed: FEED_NAMESPACE } };

async function readiness(node: ClusterNode): Promise<{ status: number; failing: string[] }> {
  const response = await fetch(`${node.httpUrl}/ready`);
  const body = (await response.json()) as { failing?: string[] };
  return { status: response.status, failing: body.failing ?? [] };
}

async function reader(node: ClusterNode, channel: string, user: string): Promise<TestSubscription> {
  const client = await connectClient(node.wsUrl, { token: await mintToken({ sub: user }) });
  return subscribe(client.client, channel);
}

async function publishNumbers(node: ClusterNode, channel: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await apiResult(node, 'publish', { channel, data: { n } });
}

describe('cluster: partitions and deaths', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    disconnectAll();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  after(() => disconnectAll());

  async function twoNodes(): Promise<{ a: ClusterNode; b: ClusterNode; cluster: TestCluster }> {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const cluster = await TestCluster.start({ nodes: 1, redisUrl: redis.url, flags: FAST_PUBLISH_FLAGS, file: FILE });
    cleanups.push(() => cluster.close());
    const b = await cluster.addNode({ proxied: true });
    return { a: cluster.nodes[0]!, b, cluster };
  }

  test('a node cut off from Redis only: not ready, its clients still get every publication (from PostgreSQL), and it rejoins by itself', async () => {
    const { a, b } = await twoNodes();
    const channel = 'feed:no-redis';
    const onA = await reader(a, channel, 'ra');
    const onB = await reader(b, channel, 'rb');
    await publishNumbers(a, channel, 1, 5);
    await waitFor(() => onB.publications.length === 5, { message: 'B receives live publications' });

    b.redisProxy!.block();
    b.redisProxy!.cut();
    await waitFor(async () => (await readiness(b)).failing.includes('redis'), { timeoutMs: 10_000, message: 'B reports Redis failing on /ready' });
    assert.equal((await readiness(a)).status, 200, 'A stays ready');

    await publishNumbers(a, channel, 6, 15);
    // B's publishes are stored (acknowledged after COMMIT) although its bus is down.
    await publishNumbers(b, channel, 16, 20);
    await waitFor(() => onB.publications.length === 20, { timeoutMs: 20_000, message: 'B\'s client gets A\'s publications through the store' });
    await waitFor(() => onA.publications.length === 20, { timeoutMs: 20_000, message: 'A\'s client gets B\'s publications through the store' });

    b.redisProxy!.unblock();
    await waitFor(async () => (await readiness(b)).status === 200, { timeoutMs: 15_000, message: 'B is ready again by itself' });
    await publishNumbers(a, channel, 21, 21);
    await waitFor(() => onB.publications.length === 21, { message: 'live delivery to B resumes' });
    await waitFor(() => onA.publications.length === 21, { message: 'and to A' });
    assertExactStream(onA, 21, 'reader on A');
    assertExactStream(onB, 21, 'reader on B');
    assert.equal(onB.of('subscribed').length, 1, 'B\'s client never had to resubscribe');
    await waitFor(async () => (await apiResult<{ num_clients: number }>(a, 'presence_stats', { channel })).num_clients === 2, {
      timeoutMs: 10_000,
      message: 'B\'s client is in presence again',
    });
  });

  test('a node cut off from PostgreSQL only: not ready, its publishes fail with a temporary error, live delivery to its clients goes on', async () => {
    const { a, b } = await twoNodes();
    const channel = 'feed:no-postgres';
    const onB = await reader(b, channel, 'rb');
    await publishNumbers(a, channel, 1, 3);
    await waitFor(() => onB.publications.length === 3, { message: 'B receives live publications' });

    b.postgresProxy!.block();
    b.postgresProxy!.cut();
    await waitFor(async () => (await readiness(b)).failing.includes('postgres'), { timeoutMs: 10_000, message: 'B reports PostgreSQL failing on /ready' });
    const refused = await apiCall(b, 'publish', { channel, data: { n: 'lost?' } });
    assert.equal(refused.body?.result, undefined, `a publish on B fails while it cannot store it (${refused.text})`);
    assert.deepEqual(refused.body?.error, { code: 100, message: 'internal server error', temporary: true }, 'a temporary error: retry');

    await publishNumbers(a, channel, 4, 8);
    await waitFor(() => onB.publications.length === 8, { message: 'B\'s client still receives what A publishes' });

    b.postgresProxy!.unblock();
    await waitFor(async () => (await readiness(b)).status === 200, { timeoutMs: 15_000, message: 'B is ready again by itself' });
    await publishNumbers(b, channel, 9, 9);
    await waitFor(() => onB.publications.length === 9, { message: 'B publishes again' });
    assertExactStream(onB, 9, 'reader on B');
    assert.deepEqual(onB.publications.map((p) => p.data.n), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the refused publish was never stored');
  });

  test('a node killed with SIGKILL: channels answers at once (partial), its presence goes with leave events, info drops it; a graceful stop leaves at once', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const cluster = await TestCluster.start({ nodes: 3, redisUrl: redis.url, flags: FAST_PUBLISH_FLAGS, file: FILE });
    cleanups.push(() => cluster.close());
    const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    const channel = 'feed:death';
    const watcher = await reader(a, channel, 'watcher');
    await reader(b, channel, 'doomed');
    await waitFor(async () => (await apiResult<{ nodes: unknown[] }>(a, 'info')).nodes.length === 3, { message: 'A lists three nodes' });
    await waitFor(async () => (await apiResult<{ num_clients: number }>(a, 'presence_stats', { channel })).num_clients === 2, { message: 'both readers present' });

    await b.kill();
    const killedAt = Date.now();
    const answer = await apiResult<{ channels: Record<string, { num_clients: number }>; partial?: boolean; missing_nodes?: string[] }>(a, 'channels', {});
    assert.equal(answer.partial, true, 'the answer says a node did not answer');
    assert.equal(answer.missing_nodes?.length, 1);
    assert.equal(answer.channels[channel]?.num_clients, 1, 'the survivors\' subscribers are counted');

    await waitFor(() => watcher.of('leave').some((l) => l.info.user === 'doomed'), { timeoutMs: 15_000, message: 'a leave event for the dead node\'s client' });
    await waitFor(async () => (await apiResult<{ num_clients: number }>(c, 'presence_stats', { channel })).num_clients === 1, {
      timeoutMs: 15_000,
      message: 'the dead node\'s client is out of presence',
    });
    assert.ok(Date.now() - killedAt < 15_000, 'within 15 s of the death');
    assert.equal((await apiResult<{ nodes: unknown[] }>(a, 'info')).nodes.length, 2, 'info lists the two live nodes');

    await c.stop();
    const nodes = (await apiResult<{ nodes: Array<{ uid: string }> }>(a, 'info')).nodes;
    assert.equal(nodes.length, 1, 'a node that shut down gracefully is dropped at once');
    const channels = await apiResult<{ partial?: boolean }>(a, 'channels', {});
    assert.equal(channels.partial, undefined, 'and is not waited for');
  });
});
