/**
 * Emulation in a cluster on Redis: a load balancer may send a client's
 * emulation requests to another node than the one holding its stream. Here
 * every stream is on node A and every emulation request goes to node B,
 * which hands the commands to A over the cluster; the SDK works as on one node.
 */
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { after, afterEach, before, describe, test } from 'node:test';
import { apiResult } from './helpers/api.js';
import { startClusterNode, type ClusterTestNode } from './helpers/cluster-node.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers/redis-service.js';
import { httpUrl } from './helpers/sdk-flavour.js';
import { connectClient, disconnectAll, eventsOf, makeClientAt, subscribe } from './helpers/sdk.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('emulation across two nodes on Redis', () => {
  const prefix = uniquePrefix('emulation-cluster');
  let a: ClusterTestNode;
  let b: ClusterTestNode;

  before(async () => {
    a = await startClusterNode(prefix);
    b = await startClusterNode(prefix);
    a.ts.server.node.registerRpc('where', () => ({ node: 'A' }));
    b.ts.server.node.registerRpc('where', () => ({ node: 'B' }));
    await waitFor(async () => {
      const listed = await Promise.all([a, b].map(async (n) => (await apiResult(n.ts, 'info')).nodes.length));
      return listed.every((length) => length === 2);
    }, { message: 'both nodes to list each other' });
  });
  afterEach(() => disconnectAll());
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const redis = await connectRedis();
    await deleteKeys(redis, prefix);
    await redis.close();
  });

  // SSE is JSON only; HTTP-streaming carries both encodings, Protobuf's commands crossing Redis as bytes.
  const flavours = [['json', 'http_stream'], ['json', 'sse'], ['protobuf', 'http_stream']] as const;
  for (const [encoding, transport] of flavours) {
    test(`${encoding}/${transport}: the stream on node A, every command posted to node B: subscribe, receive, publish, presence, rpc`, async () => {
      const path = transport === 'sse' ? '/connection/sse' : '/connection/http_stream';
      const made = makeClientAt([{ transport, endpoint: httpUrl(a.ts.wsUrl, path) }], {
        emulationEndpoint: httpUrl(b.ts.wsUrl, '/emulation'),
        token: await mintToken({ sub: 'streamer' }),
        ...(transport === 'sse' ? { eventsource: EventSource } : {}),
      }, encoding);
      made.client.connect();
      const [connected] = await eventsOf(made, 'connected');
      assert.equal(connected.transport, transport);

      const sub = await subscribe(made.client, `room:emu-${encoding}-${transport}`);
      // On A: these nodes share presence and the cluster bus, not a broker.
      const other = await connectClient(a.ts.wsUrl, { token: await mintToken({ sub: 'other' }) });
      await other.client.publish(`room:emu-${encoding}-${transport}`, { text: 'from another client' });
      await waitFor(() => sub.publications.length === 1, { message: 'the publication of another client' });
      assert.deepEqual(sub.publications[0]!.data, { text: 'from another client' });

      await sub.sub.publish({ text: 'from the stream' });
      await waitFor(() => sub.publications.length === 2, { message: 'its own publication' });
      const presence = await sub.sub.presence();
      assert.deepEqual(Object.values(presence.clients).map((c) => c.user), ['streamer']);
      assert.deepEqual((await made.client.rpc('where', {})).data, { node: 'A' }, 'commands run on the node holding the session');
      assert.equal(made.of('disconnected').length + made.of('connecting').length, 1, 'connected once, without reconnecting');
    });
  }

  test('node B answers 404 for a session that node A does not hold, and for a node nobody knows', async () => {
    const post = (body: unknown) =>
      fetch(httpUrl(b.ts.wsUrl, '/emulation'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post({ session: 'not-a-session', node: a.id, data: '{}' })).status, 404);
    assert.equal((await post({ session: 'not-a-session', node: 'not-a-node', data: '{}' })).status, 404);
  });
});
