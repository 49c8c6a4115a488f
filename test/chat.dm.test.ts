/**
 * Direct messages through the real SDK: opening a DM (and the peer being
 * told on `user:<id>`), both participants seeing it and its history, and
 * everyone else being refused.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRpcError, guestClient, waitForEvent, waitForUserEvent } from './helpers/chat.js';
import { disconnectAll, rejection, subscribe } from './helpers/sdk.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('chat: direct messages', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('both participants get the conversation and its messages; a third user is refused', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    const bob = await guestClient(ts, { name: 'Bob' });
    const cid = await guestClient(ts, { name: 'Cid' });
    for (const client of [ann, bob, cid]) await client.rpc('chat.bootstrap', {});
    const bobInbox = await subscribe(bob.client, `user:${bob.user.id}`);
    const annInbox = await subscribe(ann.client, `user:${ann.user.id}`);

    const channel = `dm:${[ann.user.id, bob.user.id].sort().join(',')}`;
    const { conversation } = await ann.rpc('chat.openDm', { user: bob.user.id });
    assert.deepEqual(conversation, { channel, kind: 'dm', title: 'Bob', peer: bob.user, peers: [bob.user], lastSeq: 0, lastReadSeq: 0, unread: 0 });

    const told = await waitForUserEvent(bobInbox, (e) => e.type === 'conversation', 'Bob is told about the DM');
    assert.deepEqual(told, {
      type: 'conversation',
      conversation: { channel, kind: 'dm', title: 'Ann', peer: ann.user, peers: [ann.user], lastSeq: 0, lastReadSeq: 0, unread: 0 },
    });
    await waitForUserEvent(annInbox, (e) => e.type === 'conversation' && e.conversation.channel === channel, 'Ann’s other devices too');
    const reopened = await bob.rpc('chat.openDm', { user: ann.user.id });
    assert.equal(reopened.conversation.channel, channel, 'the same DM from either side');
    assert.equal(reopened.conversation.title, 'Ann');

    const dmSub = await subscribe(bob.client, channel);
    const sent = await ann.rpc('chat.send', { channel, text: 'just between us' });
    await waitForEvent(dmSub, (e) => e.type === 'message' && e.message.id === sent.message.id, 'Bob receives it live');
    for (const client of [ann, bob]) {
      const { messages } = await client.rpc('chat.history', { channel });
      assert.deepEqual(messages.map((m) => [m.author.id, m.text]), [[ann.user.id, 'just between us']]);
    }
    const bobs = (await bob.rpc('chat.bootstrap', {})).conversations.find((c) => c.channel === channel);
    assert.equal(bobs?.unread, 1);
    assert.equal(bobs?.title, 'Ann');
    assert.ok(!(await cid.rpc('chat.bootstrap', {})).conversations.some((c) => c.kind === 'dm'));

    await assertRpcError(cid.rpc('chat.history', { channel }), 103);
    await assertRpcError(cid.rpc('chat.send', { channel, text: 'let me in' }), 103);
    await assertRpcError(cid.rpc('chat.members', { channel }), 103);
    await assertRpcError(cid.rpc('chat.react', { channel, id: sent.message.id, emoji: '👀' }), 103);
    await assertRpcError(cid.rpc('chat.markRead', { channel, seq: 1 }), 103);
    const subscribeRefused = await rejection(subscribe(cid.client, channel));
    assert.equal((subscribeRefused as { code: number }).code, 103);
    assert.equal((await ann.rpc('chat.history', { channel })).messages.length, 1, 'nothing was added by the refused send');
  });

  test('member lists of a DM show both participants with their online state', async () => {
    const dee = await guestClient(ts, { name: 'Dee' });
    const eli = await guestClient(ts, { name: 'Eli' });
    await eli.rpc('chat.bootstrap', {});
    const { conversation } = await dee.rpc('chat.openDm', { user: eli.user.id });
    await subscribe(eli.client, conversation.channel);
    const members = await waitFor(async () => {
      const list = (await dee.rpc('chat.members', { channel: conversation.channel })).members;
      return list.some((m) => m.online) && list;
    }, { message: 'Eli online' });
    assert.deepEqual(
      members.map((m) => [m.name, m.online]).sort(),
      [
        ['Dee', false],
        ['Eli', true],
      ],
    );
  });

  test('only existing other users can be messaged', async () => {
    const fay = await guestClient(ts, { name: 'Fay' });
    await fay.rpc('chat.bootstrap', {});
    await assertRpcError(fay.rpc('chat.openDm', { user: 'g_nobody' }), 107, /There is no user "g_nobody"/);
    await assertRpcError(fay.rpc('chat.openDm', { user: fay.user.id }), 107, /yourself/);
    await assertRpcError(fay.rpc('chat.openDm', { user: 'a,b' }), 107, /cannot receive direct messages/);
    await assertRpcError(fay.rpc('chat.openDm', { user: '' }), 107, /cannot receive direct messages/);
    await assertRpcError(fay.rpc('chat.send', { channel: `dm:${fay.user.id},zzz`, text: 'hi' }), 102, /open it first/);
  });
});
