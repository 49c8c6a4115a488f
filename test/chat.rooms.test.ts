/**
 * Rooms through the real SDK: bootstrap (joins `general` once), the room
 * directory with member and online counts, creating (name rules,
 * duplicates), joining and leaving with the events a user's other devices
 * get, member lists, and refusals for malformed requests and channels.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Room, UserEvent } from '../src/chat/protocol.js';
import { assertRpcError, connectChat, guestClient, waitForUserEvent, type ChatClient } from './helpers/chat.js';
import { disconnectAll, subscribe } from './helpers/sdk.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

async function roomNamed(client: ChatClient, name: string): Promise<Room | undefined> {
  return (await client.rpc('chat.rooms', {})).rooms.find((room) => room.name === name);
}

describe('chat: rooms', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('bootstrap joins general on the first visit only and lists the conversations', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    const first = await ann.rpc('chat.bootstrap', {});
    assert.deepEqual(first.user, ann.user);
    assert.deepEqual(first.conversations, [
      { channel: 'room:general', kind: 'room', title: 'general', topic: 'Everyone is here', private: false, role: 'member', muted: false, lastSeq: 0, lastReadSeq: 0, unread: 0 },
    ]);
    await ann.rpc('chat.leaveRoom', { name: 'general' });
    const again = await ann.rpc('chat.bootstrap', {});
    assert.deepEqual(again.conversations, [], 'a room left stays left');
  });

  test('lists rooms with members, connections online and the joined flag', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    const bob = await guestClient(ts, { name: 'Bob' });
    await ann.rpc('chat.bootstrap', {});
    await ann.rpc('chat.createRoom', { name: 'counting', topic: 'numbers' });
    const before = await roomNamed(bob, 'counting');
    assert.deepEqual(before && { ...before, createdAt: 0 }, {
      name: 'counting',
      channel: 'room:counting',
      topic: 'numbers',
      createdBy: ann.user.id,
      createdAt: 0,
      members: 1,
      online: 0,
      joined: false,
      private: false,
    });
    await bob.rpc('chat.joinRoom', { name: 'counting' });
    await subscribe(ann.client, 'room:counting');
    await subscribe(bob.client, 'room:counting');
    const ann2 = await connectChat(ts.wsUrl, ann.guest.token);
    await subscribe(ann2.client, 'room:counting');
    // Presence is recorded right after the subscribe reply, so poll (with a deadline) until it shows.
    const now = await waitFor(async () => {
      const room = await roomNamed(bob, 'counting');
      return room?.online === 3 && room;
    }, { message: 'three connections online (connections, not users)' });
    assert.equal(now.members, 2);
    assert.equal(now.joined, true);
    assert.ok((await bob.rpc('chat.rooms', {})).rooms.some((room) => room.name === 'general'));
  });

  test('creating a room checks its name, refuses duplicates and joins the creator', async () => {
    const cat = await guestClient(ts, { name: 'Cat' });
    const refusals: [string, RegExp][] = [
      ['', /Room names use lower-case letters/],
      ['Upper', /Room names use lower-case letters/],
      ['has space', /Room names use lower-case letters/],
      ['-dash-first', /Room names use lower-case letters/],
      ['x'.repeat(41), /at most 40 characters/],
    ];
    for (const [name, message] of refusals) await assertRpcError(cat.rpc('chat.createRoom', { name }), 107, message);
    await assertRpcError(cat.rpc('chat.createRoom', { name: 'ok', topic: 't'.repeat(201) }), 107, /Topic is longer than 200/);
    const { conversation } = await cat.rpc('chat.createRoom', { name: 'x'.repeat(40), topic: '  long   name  ' });
    assert.deepEqual(conversation, {
      channel: `room:${'x'.repeat(40)}`,
      kind: 'room',
      title: 'x'.repeat(40),
      topic: 'long name',
      private: false,
      role: 'owner',
      muted: false,
      lastSeq: 0,
      lastReadSeq: 0,
      unread: 0,
    });
    await assertRpcError(cat.rpc('chat.createRoom', { name: 'x'.repeat(40) }), 107, /already exists/);
    await assertRpcError(cat.rpc('chat.createRoom', { name: 'general' }), 107, /A room named "general" already exists/);
    assert.ok((await cat.rpc('chat.bootstrap', {})).conversations.some((c) => c.channel === `room:${'x'.repeat(40)}`));
  });

  test('joining and leaving reach the user’s other devices and change the member list', async () => {
    const dan = await guestClient(ts, { name: 'Dan' });
    const eve = await guestClient(ts, { name: 'Eve' });
    await dan.rpc('chat.createRoom', { name: 'garden' });
    const eveOther = await connectChat(ts.wsUrl, eve.guest.token);
    const inbox = await subscribe(eveOther.client, `user:${eve.user.id}`);

    await assertRpcError(eve.rpc('chat.joinRoom', { name: 'nowhere' }), 102, /There is no room "nowhere"/);
    const { conversation } = await eve.rpc('chat.joinRoom', { name: 'garden' });
    assert.equal(conversation.channel, 'room:garden');
    const joined = await waitForUserEvent(inbox, (e) => e.type === 'conversation', 'conversation event on the other device');
    assert.deepEqual(joined, { type: 'conversation', conversation });

    await subscribe(dan.client, 'room:garden');
    const members = await waitFor(async () => {
      const list = (await eve.rpc('chat.members', { channel: 'room:garden' })).members;
      return list[0]?.online && list;
    }, { message: 'Dan online in the member list' });
    assert.deepEqual(
      members.map((m) => [m.id, m.name, m.online]),
      [
        [dan.user.id, 'Dan', true],
        [eve.user.id, 'Eve', false],
      ],
    );
    assert.equal(members[0]?.color, dan.user.color);

    await eve.rpc('chat.leaveRoom', { name: 'garden' });
    const left = await waitForUserEvent(inbox, (e) => e.type === 'left', 'left event on the other device');
    assert.deepEqual(left, { type: 'left', channel: 'room:garden' } satisfies UserEvent);
    await eve.rpc('chat.leaveRoom', { name: 'garden' });
    assert.deepEqual((await dan.rpc('chat.members', { channel: 'room:garden' })).members.map((m) => m.id), [dan.user.id]);
    await waitFor(() => inbox.publications.length === 2, { message: 'exactly two user events' });
    assert.equal(inbox.publications.length, 2, 'leaving again publishes nothing');
  });

  test('malformed requests and channels outside rooms and DMs are refused with clear errors', async () => {
    const fay = await guestClient(ts, { name: 'Fay' });
    await assertRpcError(fay.rpc('chat.createRoom', { name: 5 as unknown as string }), 107, /name must be a string/);
    await assertRpcError(fay.rpc('chat.history', { channel: 'room:general', limit: 'ten' as unknown as number }), 107, /limit must be a whole number/);
    await assertRpcError(fay.rpc('chat.history', { channel: 'room:general', limit: 0 }), 107, /limit/);
    await assertRpcError(fay.rpc('chat.send', { channel: 'room:general' } as never), 107, /text must be a string/);
    await assertRpcError(fay.client.rpc('chat.bootstrap', 'nope'), 107, /JSON object/);
    await assertRpcError(fay.rpc('chat.send', { channel: `user:${fay.user.id}`, text: 'hi' }), 107, /room: and dm: channels only/);
    await assertRpcError(fay.rpc('chat.send', { channel: 'nowhere:x', text: 'hi' }), 102);
    await assertRpcError(fay.rpc('chat.send', { channel: 'room:missing', text: 'hi' }), 102, /There is no room "missing"/);
    await assertRpcError(fay.rpc('chat.members', { channel: 'room:Not_A_Room' }), 102);
    await assertRpcError(fay.client.rpc('chat.unknown', {}), 104);
  });
});
