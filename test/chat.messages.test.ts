/**
 * Messages through the real SDK: sending (validation, nonces, the realtime
 * stream), editing and deleting one's own, reactions, typing notices that
 * are delivered but never stored, and recovery of edits, deletions and
 * reactions made while a client was cut off.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelEvent } from '../src/chat/protocol.js';
import { assertRpcError, chatEvents, connectChat, guestClient, waitForEvent, type ChatClient } from './helpers/chat.js';
import { disconnectAll, eventsOf, subscribe } from './helpers/sdk.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { waitFor } from './helpers/wait.js';

describe('chat: messages', () => {
  let ts: TestServer;
  let proxy: TcpProxy;
  let ann: ChatClient & { user: { id: string } };
  let bob: ChatClient & { user: { id: string } };
  let annToken: string;
  let bobToken: string;

  before(async () => {
    ts = await startTestServer();
    proxy = await TcpProxy.start(ts.server.port);
    const a = await guestClient(ts, { name: 'Ann' });
    const b = await guestClient(ts, { name: 'Bob' });
    annToken = a.guest.token;
    bobToken = b.guest.token;
    await a.rpc('chat.bootstrap', {});
    await b.rpc('chat.bootstrap', {});
    await a.rpc('chat.createRoom', { name: 'msgs' });
  });
  afterEach(() => {
    disconnectAll();
    proxy.unblock();
  });
  after(async () => {
    disconnectAll();
    await proxy?.close();
    await ts?.stop();
  });

  /** Fresh clients for Ann and Bob, for one test (every client is disconnected after each test). */
  async function clients(): Promise<void> {
    ann = Object.assign(await connectChat(ts.wsUrl, annToken), { user: { id: idOf(annToken) } });
    bob = Object.assign(await connectChat(ts.wsUrl, bobToken), { user: { id: idOf(bobToken) } });
  }

  test('a sent message is returned, published in the channel stream and kept in its history', async () => {
    await clients();
    const room = await subscribe(bob.client, 'room:msgs');
    const { message } = await ann.rpc('chat.send', { channel: 'room:msgs', text: '  hello world  ' });
    assert.equal(message.text, 'hello world', 'trimmed');
    assert.equal(message.channel, 'room:msgs');
    assert.equal(message.author.name, 'Ann');
    assert.deepEqual(message.reactions, {});
    const live = await waitForEvent(room, (e) => e.type === 'message', 'the message event');
    assert.deepEqual(live, { type: 'message', message });
    const publication = room.publications.find((p) => p.data === live)!;
    assert.equal(publication.info, undefined, 'chat events come from the server and carry no publisher info');
    const stream = await room.sub.history({ limit: 100 });
    assert.ok(stream.publications.some((p) => (p.data as ChannelEvent).type === 'message' && (p.data as any).message.id === message.id));
    const { messages } = await bob.rpc('chat.history', { channel: 'room:msgs' });
    assert.deepEqual(messages.at(-1), message);
  });

  test('empty, blank and too long messages are refused with a message', async () => {
    await clients();
    await assertRpcError(ann.rpc('chat.send', { channel: 'room:msgs', text: '' }), 107, /^Message is empty$/);
    await assertRpcError(ann.rpc('chat.send', { channel: 'room:msgs', text: ' \n\t ' }), 107, /^Message is empty$/);
    await assertRpcError(ann.rpc('chat.send', { channel: 'room:msgs', text: 'x'.repeat(4001) }), 107, /^Message is longer than 4000 characters$/);
    const longest = await ann.rpc('chat.send', { channel: 'room:msgs', text: '😀'.repeat(4000) });
    assert.equal([...longest.message.text].length, 4000, '4000 characters, even when each takes two UTF-16 units');
    await assertRpcError(ann.rpc('chat.send', { channel: 'room:msgs', text: 'hi', nonce: 'n'.repeat(65) }), 107, /nonce/);
  });

  test('a retried send with the same nonce returns the first message and publishes once', async () => {
    await clients();
    const room = await subscribe(bob.client, 'room:msgs');
    const first = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'only once', nonce: 'nonce-1' });
    const retry = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'only once', nonce: 'nonce-1' });
    assert.deepEqual(retry.message, first.message);
    const marker = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'marker' });
    assert.equal(marker.message.seq, first.message.seq + 1, 'the retry took no seq');
    await waitForEvent(room, (e) => e.type === 'message' && e.message.id === marker.message.id, 'the marker');
    const copies = chatEvents(room).filter((e) => e.type === 'message' && e.message.id === first.message.id);
    assert.equal(copies.length, 1);
  });

  test('a nonce already used in another conversation is refused there, not taken for the first message', async () => {
    await clients();
    const first = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'in msgs', nonce: 'shared-nonce' });
    await ann.rpc('chat.createRoom', { name: 'elsewhere' });
    await assertRpcError(ann.rpc('chat.send', { channel: 'room:elsewhere', text: 'in elsewhere', nonce: 'shared-nonce' }), 107, /another conversation/);
    const { messages } = await ann.rpc('chat.history', { channel: 'room:elsewhere' });
    assert.deepEqual(messages, [], 'nothing was posted, and nothing from room:msgs shows there');
    const retry = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'in msgs', nonce: 'shared-nonce' });
    assert.deepEqual(retry.message, first.message, 'the retry where it belongs still returns the first message');
  });

  test('only the author edits or deletes; a deleted message shows as deleted with empty text', async () => {
    await clients();
    const room = await subscribe(bob.client, 'room:msgs');
    const { message } = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'first draft' });
    await assertRpcError(bob.rpc('chat.edit', { channel: 'room:msgs', id: message.id, text: 'vandalized' }), 103, /only edit your own/);
    await assertRpcError(bob.rpc('chat.delete', { channel: 'room:msgs', id: message.id }), 103, /only delete your own/);
    await assertRpcError(ann.rpc('chat.edit', { channel: 'room:msgs', id: message.id, text: '   ' }), 107, /Message is empty/);
    await assertRpcError(ann.rpc('chat.edit', { channel: 'room:msgs', id: 'missing', text: 'x' }), 107, /Message not found/);

    await ann.rpc('chat.edit', { channel: 'room:msgs', id: message.id, text: 'final draft' });
    const edit = await waitForEvent(room, (e) => e.type === 'edit', 'the edit event');
    assert.equal(edit.type === 'edit' && edit.text, 'final draft');
    let stored = (await bob.rpc('chat.history', { channel: 'room:msgs' })).messages.find((m) => m.id === message.id);
    assert.equal(stored?.text, 'final draft');
    assert.equal(typeof stored?.editedAt, 'number');

    await ann.rpc('chat.delete', { channel: 'room:msgs', id: message.id });
    await waitForEvent(room, (e) => e.type === 'delete' && e.id === message.id, 'the delete event');
    stored = (await bob.rpc('chat.history', { channel: 'room:msgs' })).messages.find((m) => m.id === message.id);
    assert.equal(stored?.deleted, true);
    assert.equal(stored?.text, '');
    assert.equal(stored?.seq, message.seq);
    await ann.rpc('chat.delete', { channel: 'room:msgs', id: message.id });
    await assertRpcError(ann.rpc('chat.edit', { channel: 'room:msgs', id: message.id, text: 'back' }), 107, /was deleted/);
  });

  test('reactions toggle on and off, in reaction order; only emoji are accepted', async () => {
    await clients();
    const room = await subscribe(ann.client, 'room:msgs');
    const { message } = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'react to me' });
    const channel = 'room:msgs';
    assert.deepEqual((await bob.rpc('chat.react', { channel, id: message.id, emoji: '👍' })).reactions, { '👍': [bob.user.id] });
    assert.deepEqual((await ann.rpc('chat.react', { channel, id: message.id, emoji: '👍' })).reactions, { '👍': [bob.user.id, ann.user.id] });
    assert.deepEqual((await ann.rpc('chat.react', { channel, id: message.id, emoji: '👩‍💻' })).reactions, {
      '👍': [bob.user.id, ann.user.id],
      '👩‍💻': [ann.user.id],
    });
    assert.deepEqual((await bob.rpc('chat.react', { channel, id: message.id, emoji: '👍' })).reactions, {
      '👍': [ann.user.id],
      '👩‍💻': [ann.user.id],
    });
    const off = await ann.rpc('chat.react', { channel, id: message.id, emoji: '👩‍💻' });
    assert.deepEqual(off.reactions, { '👍': [ann.user.id] });
    const last = await waitFor(() => chatEvents(room).filter((e) => e.type === 'reactions').length === 5 && chatEvents(room).at(-1), {
      message: 'five reactions events',
    });
    assert.deepEqual(last, { type: 'reactions', id: message.id, reactions: { '👍': [ann.user.id] } });
    const stored = (await bob.rpc('chat.history', { channel })).messages.find((m) => m.id === message.id);
    assert.deepEqual(stored?.reactions, { '👍': [ann.user.id] });
    // Flags and keycaps are emoji too, though not pictographs.
    for (const emoji of ['🇫🇷', '1️⃣', '#️⃣']) {
      assert.deepEqual((await bob.rpc('chat.react', { channel, id: message.id, emoji })).reactions[emoji], [bob.user.id]);
    }
    for (const emoji of ['', 'abc', '1', '#', '👍 👍', ' 👍', '👍'.repeat(17), ':+1:']) {
      await assertRpcError(bob.rpc('chat.react', { channel, id: message.id, emoji }), 107, /emoji/);
    }
  });

  test('typing notices are delivered live, rate limited, and never stored', async () => {
    await clients();
    const room = await subscribe(bob.client, 'room:msgs');
    await ann.rpc('chat.typing', { channel: 'room:msgs' });
    await ann.rpc('chat.typing', { channel: 'room:msgs' });
    const typing = await waitForEvent(room, (e) => e.type === 'typing', 'a typing notice');
    assert.ok(typing.type === 'typing');
    assert.deepEqual([typing.user.id, typing.user.name], [ann.user.id, 'Ann']);
    const marker = await ann.rpc('chat.send', { channel: 'room:msgs', text: 'done typing' });
    await waitForEvent(room, (e) => e.type === 'message' && e.message.id === marker.message.id, 'the marker');
    assert.equal(chatEvents(room).filter((e) => e.type === 'typing').length, 1, 'the second notice within 2 s was dropped');
    const stream = await room.sub.history({ limit: 100 });
    assert.ok(stream.publications.length > 0);
    assert.ok(!stream.publications.some((p) => (p.data as ChannelEvent).type === 'typing'), 'typing is not in the stream');
    const typingPub = room.publications.find((p) => (p.data as ChannelEvent).type === 'typing');
    assert.ok(!typingPub?.offset, 'a typing notice has no stream offset');
  });

  test('history pages go oldest first, with before, limit (default 50, at most 100) and hasMore', async () => {
    await clients();
    await ann.rpc('chat.createRoom', { name: 'pages' });
    const channel = 'room:pages';
    const sent = await Promise.all(Array.from({ length: 120 }, (_, i) => ann.rpc('chat.send', { channel, text: `m${i + 1}` })));
    assert.deepEqual(sent.map((r) => r.message.seq).sort((a, b) => a - b), Array.from({ length: 120 }, (_, i) => i + 1));
    const latest = await bob.rpc('chat.history', { channel });
    assert.equal(latest.messages.length, 50);
    assert.deepEqual([latest.messages[0]?.seq, latest.messages.at(-1)?.seq, latest.hasMore], [71, 120, true]);
    const capped = await bob.rpc('chat.history', { channel, limit: 1000 });
    assert.deepEqual([capped.messages.length, capped.messages[0]?.seq, capped.hasMore], [100, 21, true]);
    const oldest = await bob.rpc('chat.history', { channel, before: 21, limit: 30 });
    assert.deepEqual(oldest.messages.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(oldest.hasMore, false);
    assert.equal(oldest.messages[0]?.text, 'm1');
  });

  test('edits, deletions, reactions and messages made while a client is cut off reach it through recovery', async () => {
    await clients();
    const cut = await connectChat(proxy.wsUrl, bobToken);
    const room = await subscribe(cut.client, 'room:msgs');
    assert.equal(room.subscribed.recoverable, true);
    const keep = (await ann.rpc('chat.send', { channel: 'room:msgs', text: 'to be edited' })).message;
    const doomed = (await ann.rpc('chat.send', { channel: 'room:msgs', text: 'to be deleted' })).message;
    await waitForEvent(room, (e) => e.type === 'message' && e.message.id === doomed.id, 'both messages live');

    proxy.block();
    proxy.cut();
    await waitFor(() => cut.client.state === 'connecting', { message: 'the client notices the cut' });
    await ann.rpc('chat.edit', { channel: 'room:msgs', id: keep.id, text: 'edited while away' });
    await ann.rpc('chat.delete', { channel: 'room:msgs', id: doomed.id });
    await bob.rpc('chat.react', { channel: 'room:msgs', id: keep.id, emoji: '🎉' });
    const fresh = (await ann.rpc('chat.send', { channel: 'room:msgs', text: 'sent while away' })).message;
    await waitFor(() => proxy.refused > 0, { message: 'the client retries while the network is down' });
    const before = room.publications.length;

    proxy.unblock();
    const [, resubscribed] = await eventsOf(room, 'subscribed', 2, 10_000);
    assert.equal(resubscribed.recovered, true);
    await waitFor(() => room.publications.length >= before + 4, { message: 'four missed events' });
    const missed = room.publications.slice(before).map((p) => p.data as ChannelEvent);
    assert.deepEqual(
      missed.map((e) => e.type),
      ['edit', 'delete', 'reactions', 'message'],
    );
    assert.deepEqual(missed[0], { type: 'edit', id: keep.id, text: 'edited while away', editedAt: (missed[0] as any).editedAt });
    assert.deepEqual(missed[1], { type: 'delete', id: doomed.id });
    assert.deepEqual(missed[2], { type: 'reactions', id: keep.id, reactions: { '🎉': [bob.user.id] } });
    assert.equal(missed[3]?.type === 'message' && missed[3].message.id, fresh.id);

    const { messages } = await cut.rpc('chat.history', { channel: 'room:msgs' });
    const byId = new Map(messages.map((m) => [m.id, m]));
    assert.equal(byId.get(keep.id)?.text, 'edited while away');
    assert.deepEqual(byId.get(keep.id)?.reactions, { '🎉': [bob.user.id] });
    assert.equal(byId.get(doomed.id)?.deleted, true);
    assert.equal(byId.get(fresh.id)?.text, 'sent while away');
  });
});

/** The `sub` claim of a token, without verifying it (the server does). */
function idOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
}
