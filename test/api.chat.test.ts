/**
 * Server HTTP API publishing into chat conversations: a text payload to an
 * existing room or DM becomes a chat message by "Server" (or the name the
 * payload gives), kept in `chat.history` and delivered as a chat `message`
 * event; other payloads are delivered as they are and stay out of the chat.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelEvent, ChatMessage } from '../src/chat/protocol.js';
import { apiError, apiResult } from './helpers/api.js';
import { guestClient, waitForEvent, type ChatClient } from './helpers/chat.js';
import { disconnectAll, eventsOf, subscribe } from './helpers/sdk.js';
import { startTestServer, type TestServer } from './helpers/server.js';

type MessageEvent = Extract<ChannelEvent, { type: 'message' }>;

describe('server api: chat', () => {
  let ts: TestServer;
  let guest: ChatClient;

  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  async function signIn(): Promise<void> {
    guest = await guestClient(ts, { name: 'Reader' });
    await guest.rpc('chat.bootstrap', {});
  }

  const historyOf = async (channel: string): Promise<ChatMessage[]> => (await guest.rpc('chat.history', { channel, limit: 100 })).messages;

  test('{text} to room:general is a chat message by "Server": live event, chat.history, channel stream', async () => {
    await signIn();
    const room = await subscribe(guest.client, 'room:general');
    const result = await apiResult(ts, 'publish', { channel: 'room:general', data: { text: 'Maintenance at noon' } });
    assert.ok(result.offset >= 1);
    assert.equal(typeof result.epoch, 'string');

    const event = await waitForEvent<MessageEvent>(room, (e) => e.type === 'message' && e.message.text === 'Maintenance at noon', 'the chat message');
    assert.equal(event.message.author.name, 'Server');
    assert.match(event.message.author.id, /^api:[0-9a-f]{16}$/, 'a user of its own, not a signed-in user');
    assert.match(event.message.author.color, /^#[0-9a-f]{6}$/i);
    assert.equal(event.message.channel, 'room:general');
    const pub = room.publications.find((p) => (p.data as MessageEvent).message?.id === event.message.id);
    assert.ok(pub);
    assert.equal(pub.info, undefined, 'chat events carry no publisher info');
    assert.equal(pub.offset, result.offset, 'the answer gives the offset of the chat event');

    const messages = await historyOf('room:general');
    const stored = messages.find((m) => m.id === event.message.id);
    assert.deepEqual(stored, event.message);
    const page = await apiResult(ts, 'history', { channel: 'room:general', limit: 1, reverse: true });
    assert.equal(page.publications[0].offset, result.offset);
    assert.deepEqual(page.publications[0].data, { type: 'message', message: event.message });
  });

  test('the author name comes from username or name; a string payload is a message too', async () => {
    await signIn();
    const room = await subscribe(guest.client, 'room:general');
    await apiResult(ts, 'publish', { channel: 'room:general', data: { text: 'Deployed v2', username: '  Deploy   Bot ' } });
    await apiResult(ts, 'publish', { channel: 'room:general', data: { text: 'Backup done', name: 'Backups' } });
    await apiResult(ts, 'publish', { channel: 'room:general', data: 'Plain string news' });
    const events = await eventsOf(room, 'publication', 3);
    const messages = events.map((p) => (p.data as MessageEvent).message);
    assert.deepEqual(messages.map((m) => [m.author.name, m.text]), [
      ['Deploy Bot', 'Deployed v2'],
      ['Backups', 'Backup done'],
      ['Server', 'Plain string news'],
    ]);
    const stored = (await historyOf('room:general')).slice(-3);
    assert.deepEqual(stored.map((m) => m.author.name), ['Deploy Bot', 'Backups', 'Server']);
  });

  test('invalid text or author names are refused with 107 and nothing is posted', async () => {
    await signIn();
    const before = (await historyOf('room:general')).length;
    for (const data of [{ text: '   ' }, { text: 'x'.repeat(4001) }, { text: 'hi', username: 'n'.repeat(41) }, { text: 'hi', name: 'bad\u0000name' }]) {
      assert.equal((await apiError(ts, 'publish', { channel: 'room:general', data })).code, 107, JSON.stringify(data).slice(0, 60));
    }
    assert.equal((await historyOf('room:general')).length, before);
  });

  test('other payloads, skip_history, and rooms that do not exist are published as given, outside the chat', async () => {
    await signIn();
    const before = (await historyOf('room:general')).length;
    const room = await subscribe(guest.client, 'room:general');
    await apiResult(ts, 'publish', { channel: 'room:general', data: { kind: 'custom', value: 1 } });
    await apiResult(ts, 'publish', { channel: 'room:general', data: { text: 'ephemeral' }, skip_history: true });
    await apiResult(ts, 'publish', { channel: 'room:general', data: { text: 42 } });
    const pubs = await eventsOf(room, 'publication', 3);
    assert.deepEqual(pubs.map((p) => p.data), [{ kind: 'custom', value: 1 }, { text: 'ephemeral' }, { text: 42 }]);
    assert.equal((await historyOf('room:general')).length, before, 'none of them is a chat message');

    const other = await guestClient(ts, { name: 'Other' });
    const ghost = await subscribe(other.client, 'room:no-such-room');
    const result = await apiResult(ts, 'publish', { channel: 'room:no-such-room', data: { text: 'into the void' } });
    assert.equal(result.offset, 1);
    const [pub] = await eventsOf(ghost, 'publication', 1);
    assert.deepEqual(pub.data, { text: 'into the void' });
  });

  test('a text payload to an existing DM is a message in that DM', async () => {
    await signIn();
    const peer = await guestClient(ts, { name: 'Peer' });
    await peer.rpc('chat.bootstrap', {});
    const { conversation } = await guest.rpc('chat.openDm', { user: peer.user.id });
    const dm = await subscribe(peer.client, conversation.channel);
    await apiResult(ts, 'publish', { channel: conversation.channel, data: { text: 'Your order shipped', username: 'Shop' } });
    const event = await waitForEvent<MessageEvent>(dm, (e) => e.type === 'message', 'the DM message');
    assert.equal(event.message.author.name, 'Shop');
    const messages = (await peer.rpc('chat.history', { channel: conversation.channel })).messages;
    assert.deepEqual(messages.map((m) => m.text), ['Your order shipped']);
  });
});
