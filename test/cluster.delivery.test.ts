/**
 * Three Parley nodes, as separate processes, on this machine's Redis and a
 * fresh PostgreSQL database, behave as one server: what is published through
 * any node reaches subscribers on every node, in one order, with dense
 * offsets; presence and join/leave span nodes.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiResult } from './helpers/api.js';
import { TestCluster } from './helpers/cluster.js';
import { FAST_PUBLISH_FLAGS, FEED_NAMESPACE, assertExactStream } from './helpers/cluster-checks.js';
import { REDIS_URL, uniquePrefix } from './helpers/redis-service.js';
import { connectClient, disconnectAll, subscribe, type TestSubscription } from './helpers/sdk.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { connectChat, waitForEvent, waitForUserEvent } from './helpers/chat.js';
import type { ChannelEvent, UserEvent } from '../src/chat/protocol.js';

describe('cluster: one chat across three nodes', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({
      nodes: 3,
      redisUrl: REDIS_URL,
      flags: [...FAST_PUBLISH_FLAGS, '--redis-prefix', uniquePrefix('cluster-delivery')],
      file: { namespaces: { feed: FEED_NAMESPACE } },
    });
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await cluster?.close();
  });

  test('a publication through node A reaches a subscriber on node B, and a client publish on B reaches A', async () => {
    const [a, b] = cluster.nodes;
    const onA = await connectClient(a!.wsUrl, { token: await mintToken({ sub: 'ann' }) });
    const onB = await connectClient(b!.wsUrl, { token: await mintToken({ sub: 'bob' }) });
    const subA = await subscribe(onA.client, 'feed:hello');
    const subB = await subscribe(onB.client, 'feed:hello');

    const first = await apiResult<{ offset: number; epoch: string }>(a!, 'publish', { channel: 'feed:hello', data: { n: 1 } });
    await waitFor(() => subB.publications.length === 1, { message: 'B receives the publication made through A' });
    assert.deepEqual(subB.publications[0]?.data, { n: 1 });
    assert.equal(subB.publications[0]?.offset, first.offset);

    await onB.client.publish('feed:hello', { n: 2 });
    await waitFor(() => subA.publications.length === 2, { message: 'A receives the client publish made on B' });
    await waitFor(() => subB.publications.length === 2, { message: 'B receives its own client\'s publish' });
    assert.deepEqual(subA.publications.map((p) => p.data), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(subA.publications.map((p) => p.offset), subB.publications.map((p) => p.offset));
    assert.equal(subA.subscribed.streamPosition?.epoch, subB.subscribed.streamPosition?.epoch, 'one epoch on every node');
  });

  test('three nodes publishing concurrently into one channel: dense offsets, one order for every subscriber', async () => {
    const channel = 'feed:race';
    const PER_NODE = 300;
    const subscriptions: TestSubscription[] = [];
    for (const node of cluster.nodes) {
      for (const user of ['x', 'y']) {
        const client = await connectClient(node.wsUrl, { token: await mintToken({ sub: `${user}${node.index}` }) });
        subscriptions.push(await subscribe(client.client, channel));
      }
    }
    // Every node publishes its own numbered series at once, 8 requests in flight per node.
    const results = await Promise.all(
      cluster.nodes.map(async (node) => {
        const offsets: number[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < PER_NODE) {
              const n = next++;
              const result = await apiResult<{ offset: number }>(node, 'publish', { channel, data: { node: node.index, n } });
              offsets.push(result.offset);
            }
          }),
        );
        return offsets;
      }),
    );
    const total = PER_NODE * cluster.nodes.length;
    assert.deepEqual(
      results.flat().sort((x, y) => x - y),
      Array.from({ length: total }, (_, i) => i + 1),
      'the acknowledged offsets are exactly 1..N, none twice',
    );
    for (const [i, made] of subscriptions.entries()) {
      await waitFor(() => made.publications.length >= total, { timeoutMs: 20_000, message: `subscriber ${i} receives all ${total}` });
      assertExactStream(made, total, `subscriber ${i} (node ${Math.floor(i / 2)})`);
    }
    const order = (made: TestSubscription) => made.publications.map((p) => `${p.data.node}/${p.data.n}`).join(' ');
    const reference = order(subscriptions[0]!);
    for (const made of subscriptions) assert.equal(order(made), reference, 'the same order on every node');
    // Each node's own series keeps its order within the stream.
    for (const node of cluster.nodes) {
      const mine = subscriptions[0]!.publications.filter((p) => p.data.node === node.index).map((p) => p.data.n);
      assert.equal(mine.length, PER_NODE);
    }
  });

  test('presence, presence_stats and join/leave span nodes', async () => {
    const channel = 'feed:lobby';
    const [a, b, c] = cluster.nodes;
    const ann = await connectClient(a!.wsUrl, { token: await mintToken({ sub: 'ann' }) });
    const annSub = await subscribe(ann.client, channel);
    const bob = await connectClient(b!.wsUrl, { token: await mintToken({ sub: 'bob' }) });
    await subscribe(bob.client, channel);

    await waitFor(() => annSub.of('join').some((j) => j.info.user === 'bob'), { message: 'A sees B\'s subscriber join' });

    const presence = await apiResult<{ presence: Record<string, { user: string }> }>(c!, 'presence', { channel });
    assert.deepEqual(Object.values(presence.presence).map((p) => p.user).sort(), ['ann', 'bob'], 'C lists both');
    const stats = await apiResult<{ num_clients: number; num_users: number }>(c!, 'presence_stats', { channel });
    assert.deepEqual(stats, { num_clients: 2, num_users: 2 });

    bob.client.disconnect();
    await waitFor(() => annSub.of('leave').some((l) => l.info.user === 'bob'), { message: 'A sees B\'s subscriber leave' });
    await waitFor(async () => (await apiResult<{ num_clients: number }>(c!, 'presence_stats', { channel })).num_clients === 1, {
      message: 'presence drops bob on every node',
    });
  });

  test('the chat spans nodes: messages, edits, reactions, typing, read state and search, whichever node each user is on', async () => {
    const [a, b, c] = cluster.nodes;
    const annToken = await mintToken({ sub: 'chat-ann', info: { name: 'Ann' } });
    const ann = await connectChat(a!.wsUrl, annToken);
    const bob = await connectChat(b!.wsUrl, await mintToken({ sub: 'chat-bob', info: { name: 'Bob' } }));
    // Ann's second device, on a third node.
    const annPhone = await connectChat(c!.wsUrl, annToken);
    await ann.rpc('chat.bootstrap', {});
    await bob.rpc('chat.bootstrap', {});
    const bobRoom = await subscribe(bob.client, 'room:general');
    const annRoom = await subscribe(ann.client, 'room:general');
    const annInbox = await subscribe(annPhone.client, 'user:chat-ann');

    const { message } = await ann.rpc('chat.send', { channel: 'room:general', text: 'across the cluster' });
    await waitForEvent<ChannelEvent>(bobRoom, (e) => e.type === 'message' && e.message.id === message.id, 'B sees the message sent on A');
    await bob.rpc('chat.react', { channel: 'room:general', id: message.id, emoji: '🎉' });
    await waitForEvent<ChannelEvent>(annRoom, (e) => e.type === 'reactions' && e.id === message.id, 'A sees the reaction made on B');
    await ann.rpc('chat.edit', { channel: 'room:general', id: message.id, text: 'across the whole cluster' });
    await waitForEvent<ChannelEvent>(bobRoom, (e) => e.type === 'edit' && e.id === message.id, 'B sees the edit made on A');
    await bob.rpc('chat.typing', { channel: 'room:general' });
    await waitForEvent<ChannelEvent>(annRoom, (e) => e.type === 'typing' && e.user.id === 'chat-bob', 'A sees B typing');
    await ann.rpc('chat.markRead', { channel: 'room:general', seq: message.seq });
    await waitForUserEvent(annInbox, (e: UserEvent) => e.type === 'read' && e.channel === 'room:general' && e.seq === message.seq, 'the phone on C hears of the read on A');

    // Every node reads the same chat from PostgreSQL.
    const history = await bob.rpc('chat.history', { channel: 'room:general' });
    assert.deepEqual(history.messages.filter((m) => m.id === message.id).map((m) => [m.text, m.reactions]), [['across the whole cluster', { '🎉': ['chat-bob'] }]]);
    const found = await annPhone.rpc('chat.search', { query: 'whol clus' });
    assert.deepEqual(found.messages.map((m) => m.id), [message.id], 'search on C finds the edited text by prefixes');
  });
});
