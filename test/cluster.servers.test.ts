/**
 * Several servers in one process forming a cluster on Redis: the server API
 * reaches every node, a node that dies makes `channels` partial instead of
 * failing, a dead node's presence is purged with leave events, and a Redis
 * restart gets presence back at once.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, describe, test } from 'node:test';
import { apiResult } from './helpers/api.js';
import { postJson } from './helpers/chat.js';
import { startClusterNode, TEST_HEARTBEAT, type ClusterNodeOptions, type ClusterTestNode } from './helpers/cluster-node.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { connectRedis, deleteKeys, reconnectingClient, uniquePrefix } from './helpers/redis-service.js';
import { connectClient, disconnectAll, eventsOf, makeClient, subscribe } from './helpers/sdk.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('a cluster of servers on Redis', () => {
  const started: ClusterTestNode[] = [];
  const prefixes: string[] = [];

  async function cluster(count: number, options?: ClusterNodeOptions): Promise<ClusterTestNode[]> {
    const prefix = uniquePrefix('cluster-servers');
    prefixes.push(prefix);
    const nodes: ClusterTestNode[] = [];
    for (let i = 0; i < count; i++) nodes.push(await startClusterNode(prefix, options));
    started.push(...nodes);
    await waitFor(async () => {
      const infos = await Promise.all(nodes.map(async (n) => (await apiResult(n.ts, 'info')).nodes.length));
      return infos.every((length) => length === count);
    }, { message: 'every node to list the others' });
    return nodes;
  }

  const startConnecting = (node: ClusterTestNode, token: string) => {
    const made = makeClient(node.ts.wsUrl, { token });
    made.client.connect();
    return made;
  };
  const user = async (node: ClusterTestNode, sub: string) => connectClient(node.ts.wsUrl, { token: await mintToken({ sub }) });

  afterEach(async () => {
    disconnectAll();
    await Promise.all(started.splice(0).map((node) => node.stop()));
  });
  after(async () => {
    const client = await connectRedis();
    for (const prefix of prefixes) await deleteKeys(client, prefix);
    await client.close();
  });

  test('info lists both nodes, channels merges them, disconnect on A closes a connection on B, channels after B died is partial', async () => {
    const [a, b] = await cluster(2);
    const { nodes } = await apiResult(a!.ts, 'info');
    assert.deepEqual(nodes.map((n: { uid: string }) => n.uid).sort(), [a!.id, b!.id].sort());

    const ann = await user(a!, 'ann');
    const bob = await user(b!, 'bob');
    await subscribe(ann.client, 'room:cl-both');
    await subscribe(bob.client, 'room:cl-both');
    await subscribe(bob.client, 'room:cl-b');
    const { channels } = await apiResult(a!.ts, 'channels', { pattern: 'room:cl-*' });
    assert.deepEqual(channels, { 'room:cl-both': { num_clients: 2 }, 'room:cl-b': { num_clients: 1 } });
    await waitFor(async () => {
      const listed = (await apiResult(a!.ts, 'info')).nodes.find((n: { uid: string }) => n.uid === b!.id);
      return listed?.num_clients === 1 && listed.num_subs === 2;
    }, { message: "B's heartbeat to carry its counts" });

    assert.deepEqual(await apiResult(a!.ts, 'disconnect', { user: 'bob' }), {});
    const [closed] = await eventsOf(bob, 'disconnected', 1);
    assert.equal(closed.code, 3503);
    assert.equal(ann.client.state, 'connected');
    const [refused] = await eventsOf(startConnecting(b!, await mintToken({ sub: 'bob' })), 'disconnected', 1);
    assert.equal(refused.code, 3503, 'a connection of bob that comes right after the disconnect is refused the same way');

    const carl = await user(b!, 'carl');
    await subscribe(carl.client, 'room:cl-carl');
    b!.kill();
    const partial = await apiResult(a!.ts, 'channels', { pattern: 'room:cl-*' });
    assert.deepEqual(partial, { channels: { 'room:cl-both': { num_clients: 1 } }, partial: true, missing_nodes: [b!.id] });
  });

  test('subscribe and unsubscribe called on A reach a connection on B', async () => {
    const [a, b] = await cluster(2);
    const bob = await user(b!, 'bob');
    const room = await subscribe(bob.client, 'room:cl-unsub');
    assert.deepEqual(await apiResult(a!.ts, 'subscribe', { user: 'bob', channel: 'room:cl-server-side' }), {});
    const [subscribed] = await eventsOf(bob, 'subscribed', 1);
    assert.equal(subscribed.channel, 'room:cl-server-side');
    assert.deepEqual(await apiResult(a!.ts, 'unsubscribe', { user: 'bob', channel: 'room:cl-unsub' }), {});
    const [ended] = await eventsOf(room, 'unsubscribed', 1);
    assert.equal(ended.code, 2000);
  });

  test("a dead node's presence is purged, with leave events seen on the survivor", async () => {
    const [a, b] = await cluster(2);
    const ann = await user(a!, 'ann');
    const bob = await user(b!, 'bob');
    const annSub = await subscribe(ann.client, 'room:cl-presence');
    await subscribe(bob.client, 'room:cl-presence');
    await eventsOf(annSub, 'join', 1);
    const present = async () => Object.keys((await apiResult(a!.ts, 'presence', { channel: 'room:cl-presence' })).presence).sort();
    assert.deepEqual(await present(), [ann.clientId, bob.clientId].sort());

    b!.kill();
    const [left] = await eventsOf(annSub, 'leave', 1, 15_000);
    assert.equal(left.info.client, bob.clientId);
    assert.deepEqual(await present(), [ann.clientId]);
  });

  test('guest sign-ins from one address count on every node together', async () => {
    const [a, b] = await cluster(2, { flags: ['--guest-sign-in-burst', '2', '--guest-sign-ins-per-minute', '1'] });
    assert.deepEqual([(await postJson(a!.ts, '/app/guest', {})).status, (await postJson(b!.ts, '/app/guest', {})).status], [200, 200]);
    const refused = await postJson(a!.ts, '/app/guest', {});
    assert.equal(refused.status, 429, 'the third sign-in from this address, on either node, is over the shared burst');
  });

  test('after a Redis restart, nodes put their presence back at once, and an outage longer than the eviction time evicts nobody', async () => {
    const redis = await PrivateRedis.start();
    try {
      const [a, b] = await cluster(2, { connect: () => reconnectingClient(redis.url) });
      const ann = await user(a!, 'ann');
      const bob = await user(b!, 'bob');
      const annSub = await subscribe(ann.client, 'room:cl-restart');
      await subscribe(bob.client, 'room:cl-restart');
      const everyone = [ann.clientId, bob.clientId].sort();
      const present = async () => Object.keys((await apiResult(a!.ts, 'presence', { channel: 'room:cl-restart' })).presence).sort();
      assert.deepEqual(await present(), everyone);

      await redis.kill();
      // The outage itself is the scenario: it lasts well past the eviction time.
      await delay(TEST_HEARTBEAT.evictAfterMs * 3);
      await redis.resume();
      // The scheduled refresh is 20 s away: only the re-add on reconnect can bring the entries back within this wait.
      await waitFor(async () => (await present().catch(() => [])).length === 2, { timeoutMs: 8_000, intervalMs: 100, message: 'presence to be back' });
      await waitFor(async () => {
        const answer = await apiResult(a!.ts, 'channels', { pattern: 'room:cl-restart' });
        return answer.partial === undefined && answer.channels['room:cl-restart']?.num_clients === 2;
      }, { message: 'both nodes to answer surveys again' });
      assert.deepEqual(await present(), everyone, 'no live entry was purged');
      assert.deepEqual(annSub.of('leave'), [], 'no leave event for a live client');
    } finally {
      disconnectAll();
      await Promise.all(started.splice(0).map((node) => node.stop()));
      await redis.stop();
    }
  });
});
