/**
 * Read positions and unread counts (across devices, reconnections and
 * restarts), full-text search (prefixes, privacy of DMs, hostile input,
 * edits and deletions), and chat state surviving a server restart.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRpcError, connectChat, guestClient, waitForUserEvent, type Guest } from './helpers/chat.js';
import { disconnectAll, rejection, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';

describe('chat: read state and search', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('a newcomer to a room starts with its backlog read, and counts what comes after', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    await ann.rpc('chat.createRoom', { name: 'backlog' });
    const channel = 'room:backlog';
    for (const text of ['old one', 'old two', 'old three']) await ann.rpc('chat.send', { channel, text });
    const cleo = await guestClient(ts, { name: 'Cleo' });
    const { conversation } = await cleo.rpc('chat.joinRoom', { name: 'backlog' });
    assert.deepEqual([conversation.lastSeq, conversation.lastReadSeq, conversation.unread], [3, 3, 0]);
    await ann.rpc('chat.send', { channel, text: 'new one' });
    const after = (await cleo.rpc('chat.bootstrap', {})).conversations.find((c) => c.channel === channel);
    assert.deepEqual([after?.lastReadSeq, after?.unread], [3, 1]);
  });

  test('unread counts follow read positions, which only move forward and reach every device', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    const bob = await guestClient(ts, { name: 'Bob' });
    await ann.rpc('chat.createRoom', { name: 'reading' });
    await bob.rpc('chat.joinRoom', { name: 'reading' });
    const channel = 'room:reading';
    const sent = [];
    for (const text of ['one', 'two', 'three', 'four']) sent.push((await ann.rpc('chat.send', { channel, text })).message);
    await bob.rpc('chat.send', { channel, text: 'mine' });
    await ann.rpc('chat.delete', { channel, id: sent[3]!.id });

    const unreadOf = async (client: { rpc: typeof bob.rpc }) =>
      (await client.rpc('chat.bootstrap', {})).conversations.find((c) => c.channel === channel);
    assert.deepEqual(
      (({ lastSeq, lastReadSeq, unread }) => ({ lastSeq, lastReadSeq, unread }))((await unreadOf(bob))!),
      { lastSeq: 5, lastReadSeq: 0, unread: 3 },
      'others’ messages that are not deleted',
    );

    const bobPhone = await connectChat(ts.wsUrl, bob.guest.token);
    const inbox = await subscribe(bobPhone.client, `user:${bob.user.id}`);
    await bob.rpc('chat.markRead', { channel, seq: 2 });
    const read = await waitForUserEvent(inbox, (e) => e.type === 'read', 'the read event on the other device');
    assert.deepEqual(read, { type: 'read', channel, seq: 2 });
    assert.equal((await unreadOf(bobPhone))?.unread, 1);

    await bob.rpc('chat.markRead', { channel, seq: 1 });
    assert.equal((await unreadOf(bob))?.lastReadSeq, 2, 'never back');
    await bob.rpc('chat.markRead', { channel, seq: 99 });
    await waitForUserEvent(inbox, (e) => e.type === 'read' && e.seq === 5, 'capped at the last seq');
    assert.deepEqual(inbox.publications.map((p) => p.data.seq), [2, 5], 'no event when nothing moved');
    await assertRpcError(bob.rpc('chat.markRead', { channel, seq: -1 }), 107);

    // A reload: a brand-new connection sees the same state.
    bob.client.disconnect();
    const reloaded = await connectChat(ts.wsUrl, bob.guest.token);
    assert.deepEqual(
      (({ lastReadSeq, unread }) => ({ lastReadSeq, unread }))((await unreadOf(reloaded))!),
      { lastReadSeq: 5, unread: 0 },
    );
  });

  test('search finds words and prefixes, newest first, in the caller’s rooms and own DMs only', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    const bob = await guestClient(ts, { name: 'Bob' });
    const cid = await guestClient(ts, { name: 'Cid' });
    for (const c of [ann, bob, cid]) await c.rpc('chat.bootstrap', {});
    await ann.rpc('chat.createRoom', { name: 'searching' });
    await ann.rpc('chat.send', { channel: 'room:searching', text: 'The quick brown fox' });
    await bob.rpc('chat.send', { channel: 'room:general', text: 'quickly now, brownies!' });
    const dm = (await ann.rpc('chat.openDm', { user: bob.user.id })).conversation.channel;
    await ann.rpc('chat.send', { channel: dm, text: 'quick private brownie recipe' });

    const texts = async (client: typeof ann, query: string, limit?: number) =>
      (await client.rpc('chat.search', limit === undefined ? { query } : { query, limit })).messages.map((m) => m.text);
    assert.deepEqual(await texts(cid, 'quick'), ['quickly now, brownies!'], 'only rooms cid is in');
    await cid.rpc('chat.joinRoom', { name: 'searching' });
    assert.deepEqual(await texts(cid, 'quick'), ['quickly now, brownies!', 'The quick brown fox'], 'rooms, newest first');
    assert.deepEqual(await texts(cid, 'brown'), ['quickly now, brownies!', 'The quick brown fox'], 'prefixes');
    assert.deepEqual(await texts(cid, 'private'), [], 'never another pair’s DM');
    assert.deepEqual(await texts(bob, 'private'), ['quick private brownie recipe'], 'one’s own DMs');
    assert.deepEqual(await texts(ann, 'quick', 1), ['quick private brownie recipe'], 'limited');
    assert.deepEqual(await texts(ann, 'QUICK FOX'), ['The quick brown fox'], 'every word, any case');
    for (const hostile of ['"foo AND (', 'quick"', 'NEAR(quick', '*', 'text:quick', '-quick', "'); DROP TABLE messages; --"]) {
      const { messages } = await cid.rpc('chat.search', { query: hostile });
      assert.ok(Array.isArray(messages), hostile);
    }
    assert.deepEqual(await texts(cid, 'quick"'), ['quickly now, brownies!', 'The quick brown fox']);
    await assertRpcError(cid.rpc('chat.search', { query: 'x'.repeat(201) }), 107, /longer than 200/);
  });

  test('search reflects edits and deletions', async () => {
    const dee = await guestClient(ts, { name: 'Dee' });
    await dee.rpc('chat.bootstrap', {});
    const { message } = await dee.rpc('chat.send', { channel: 'room:general', text: 'aardvark sighting' });
    await dee.rpc('chat.edit', { channel: 'room:general', id: message.id, text: 'armadillo sighting' });
    assert.deepEqual((await dee.rpc('chat.search', { query: 'aardvark' })).messages, []);
    assert.deepEqual((await dee.rpc('chat.search', { query: 'armad' })).messages.map((m) => m.id), [message.id]);
    await dee.rpc('chat.delete', { channel: 'room:general', id: message.id });
    assert.deepEqual((await dee.rpc('chat.search', { query: 'armadillo' })).messages, []);
  });
});

describe('chat: state survives a restart', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('rooms, members, DMs, messages with edits, deletions and reactions, read positions and guest sessions', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    const bob = await guestClient(ts, { name: 'Bob' });
    await bob.rpc('chat.bootstrap', {});
    await ann.rpc('chat.createRoom', { name: 'durable', topic: 'kept' });
    await bob.rpc('chat.joinRoom', { name: 'durable' });
    const channel = 'room:durable';
    const m1 = (await ann.rpc('chat.send', { channel, text: 'persisted words' })).message;
    const m2 = (await ann.rpc('chat.send', { channel, text: 'to delete' })).message;
    await ann.rpc('chat.send', { channel, text: 'unread one' });
    await ann.rpc('chat.edit', { channel, id: m1.id, text: 'persisted edited words' });
    await ann.rpc('chat.delete', { channel, id: m2.id });
    await bob.rpc('chat.react', { channel, id: m1.id, emoji: '🎉' });
    await bob.rpc('chat.markRead', { channel, seq: 2 });
    const dm = (await ann.rpc('chat.openDm', { user: bob.user.id })).conversation.channel;
    await ann.rpc('chat.send', { channel: dm, text: 'see you after the restart' });
    const expected = (await bob.rpc('chat.history', { channel })).messages;
    disconnectAll();

    ts = await ts.restart();
    const refreshed = await fetch(`http://127.0.0.1:${ts.server.port}/app/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: bob.guest.refreshToken }),
    });
    assert.equal(refreshed.status, 200, 'the guest session survived');
    const bobAgain = await connectChat(ts.wsUrl, ((await refreshed.json()) as Guest).token);
    const { conversations } = await bobAgain.rpc('chat.bootstrap', {});
    const room = conversations.find((c) => c.channel === channel);
    assert.deepEqual(room && { ...room, lastMessageAt: 0 }, {
      channel,
      kind: 'room',
      title: 'durable',
      topic: 'kept',
      private: false,
      role: 'member',
      muted: false,
      lastSeq: 3,
      lastReadSeq: 2,
      unread: 1,
      lastMessageAt: 0,
    });
    assert.equal(conversations.find((c) => c.channel === dm)?.unread, 1);
    assert.deepEqual((await bobAgain.rpc('chat.history', { channel })).messages, expected);
    assert.deepEqual(expected.map((m) => [m.text, m.deleted ?? false, m.reactions]), [
      ['persisted edited words', false, { '🎉': [bob.user.id] }],
      ['', true, {}],
      ['unread one', false, {}],
    ]);
    assert.deepEqual((await bobAgain.rpc('chat.members', { channel })).members.map((m) => m.name), ['Ann', 'Bob']);
    const listed = (await bobAgain.rpc('chat.rooms', {})).rooms.find((r) => r.name === 'durable');
    assert.equal(listed?.members, 2);
    assert.deepEqual((await bobAgain.rpc('chat.search', { query: 'edited' })).messages.map((m) => m.id), [m1.id]);
    const next = await bobAgain.rpc('chat.send', { channel, text: 'after' });
    assert.equal(next.message.seq, 4, 'seq continues after a restart');
    const stream = await (await subscribe(bobAgain.client, channel)).sub.history({ limit: 100 });
    assert.deepEqual(
      stream.publications.map((p) => p.data.type),
      ['message', 'message', 'message', 'edit', 'delete', 'reactions', 'message'],
      'the realtime stream survived as well',
    );
  });

  test('shutdown waits for chat operations already running, refuses new ones, and keeps what they wrote', async () => {
    // Called on the node directly, so the operation is certainly mid-way when shutdown starts.
    const context = { user: 'direct', client: 'c-direct', info: { user: 'direct', client: 'c-direct', conn_info: { name: 'Direct' } } };
    const running = ts.server.node.callRpc('chat.send', context, { channel: 'room:general', text: 'in flight at shutdown' });
    const closing = ts.server.close();
    const late = rejection(ts.server.node.callRpc('chat.send', context, { channel: 'room:general', text: 'too late' }));
    const { message } = (await running) as { message: { id: string } };
    const refused = await late;
    assert.equal(refused.code, 108);
    assert.match(refused.message, /shutting down/);
    await closing;
    const failures = ts.logs.map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50);
    assert.deepEqual(failures, [], 'no chat operation failed because storage closed under it');

    ts = await ts.restart();
    const reader = await connectChat(ts.wsUrl, await mintToken({ sub: 'direct' }));
    const { messages } = await reader.rpc('chat.history', { channel: 'room:general' });
    assert.deepEqual(messages.map((m) => [m.id, m.text]), [[message.id, 'in flight at shutdown']]);
    const stream = await (await subscribe(reader.client, 'room:general')).sub.history({ limit: 10 });
    assert.equal(stream.publications.length, 1, 'its event was published before the stream closed');
  });
});
