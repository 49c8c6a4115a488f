/**
 * Moderation across nodes: a ban made on node A ends the banned user's live
 * subscription on node B, and node B refuses them from then on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { UserEvent } from '../src/chat/protocol.js';
import { assertRpcError, connectChat, waitForUserEvent, type ChatClient } from './helpers/chat.js';
import { TestCluster } from './helpers/cluster.js';
import { FAST_PUBLISH_FLAGS } from './helpers/cluster-checks.js';
import { REDIS_URL, uniquePrefix } from './helpers/redis-service.js';
import { disconnectAll, makeSubscription, rejection, subscribe, subscribeExisting } from './helpers/sdk.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('cluster: moderation reaches every node', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({
      nodes: 2,
      redisUrl: REDIS_URL,
      flags: [...FAST_PUBLISH_FLAGS, '--redis-prefix', uniquePrefix('cluster-moderation')],
    });
  });
  after(async () => {
    disconnectAll();
    await cluster?.close();
  });

  const chatOn = async (wsUrl: string, id: string, name: string): Promise<ChatClient> => {
    const client = await connectChat(wsUrl, await mintToken({ sub: id, info: { name } }));
    await client.rpc('chat.bootstrap', {});
    return client;
  };

  test('a ban on node A unsubscribes the user on node B, who is refused there afterwards', async () => {
    const [a, b] = cluster.nodes;
    const owner = await chatOn(a!.wsUrl, 'owner', 'Owner');
    await owner.rpc('chat.createRoom', { name: 'crossing', private: true });
    const troll = await chatOn(b!.wsUrl, 'troll', 'Troll');
    assert.deepEqual(await owner.rpc('chat.addMembers', { channel: 'room:crossing', users: ['troll'] }), { added: ['troll'] });
    const inbox = await subscribe(troll.client, 'user:troll');
    const live = makeSubscription(troll.client, 'room:crossing');
    await subscribeExisting(live);

    await owner.rpc('chat.moderate', { channel: 'room:crossing', action: 'ban', user: 'troll' });
    await waitFor(() => live.of('unsubscribed').length > 0, { message: 'the subscription on node B ended' });
    const notice = await waitForUserEvent(inbox, (e) => e.type === 'removed', 'the notice reaches node B');
    assert.deepEqual(notice, { type: 'removed', channel: 'room:crossing', reason: 'banned' } satisfies UserEvent);

    const refused = await rejection(subscribeExisting(live));
    assert.equal((refused as { code: number }).code, 103, 'node B refuses the resubscribe');
    await assertRpcError(troll.rpc('chat.history', { channel: 'room:crossing' }), 103, /banned/);
  });
});
