import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelEvent, UserEvent } from '../src/chat/protocol.js';
import { seedAccounts } from './helpers/accounts.js';
import { assertRpcError, connectChat, guestClient, waitForEvent, waitForUserEvent, type ChatClient } from './helpers/chat.js';
import { disconnectAll, makeSubscription, rejection, subscribe, subscribeExisting } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { commandAsker, openRaw } from './helpers/raw-client.js';
import { waitFor } from './helpers/wait.js';

let ts: TestServer;
const ADMIN = 'acct-admin';

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-moderation-'));
  await seedAccounts(dataDir, [{ id: ADMIN, username: 'ada', displayName: 'Ada Admin' }]);
  ts = await startTestServer({ dataDir });
});

after(async () => {
  disconnectAll();
  await ts.stop();
});

/** A client for a user id with a minted token (optionally with a `permissions` claim). */
async function userClient(id: string, name: string, claims: Record<string, unknown> = {}): Promise<ChatClient> {
  const client = await connectChat(ts.wsUrl, await mintToken({ sub: id, info: { name }, ...claims }));
  await client.rpc('chat.bootstrap', {});
  return client;
}

async function code(promise: Promise<unknown>): Promise<number> {
  return (await rejection(promise)).code;
}

const roomNames = async (client: ChatClient) => (await client.rpc('chat.rooms', {})).rooms.map((room) => room.name);
const found = async (client: ChatClient, query: string) => (await client.rpc('chat.search', { query })).messages.map((m) => m.text);

describe('chat: private rooms', () => {
  test('a private room is invisible and refused (103) to an outsider, by RPC and at the protocol level', async () => {
    const owner = await guestClient(ts, { name: 'Olive' });
    await owner.rpc('chat.bootstrap', {});
    const { conversation } = await owner.rpc('chat.createRoom', { name: 'leadership-private', topic: 'plans', private: true });
    assert.deepEqual([conversation.private, conversation.role, conversation.muted], [true, 'owner', false]);
    await owner.rpc('chat.send', { channel: 'room:leadership-private', text: 'quarterly layoffs draft' });

    const outsider = await userClient('mallory', 'Mallory');
    // A token whose permission claim would allow every room changes nothing.
    const claimed = await userClient('mallory2', 'Mallory Two', { permissions: { '^room:': { subscribe: true, publish: true, history: true, presence: true }, '^user:': { subscribe: true } } });
    const refusedSubs = [];
    for (const client of [outsider, claimed]) {
      assert.ok(!(await roomNames(client)).includes('leadership-private'), 'not listed');
      assert.deepEqual(await found(client, 'layoffs'), [], 'not found by search');
      await assertRpcError(client.rpc('chat.joinRoom', { name: 'leadership-private' }), 103, /private/);
      await assertRpcError(client.rpc('chat.history', { channel: 'room:leadership-private' }), 103, /private/);
      await assertRpcError(client.rpc('chat.members', { channel: 'room:leadership-private' }), 103);
      await assertRpcError(client.rpc('chat.send', { channel: 'room:leadership-private', text: 'hi' }), 103);
      const sub = makeSubscription(client.client, 'room:leadership-private');
      refusedSubs.push(sub);
      const refused = await rejection(subscribeExisting(sub));
      assert.equal((refused as { code: number }).code, 103, 'subscribe refused');
      assert.equal(await code(client.client.history('room:leadership-private', { limit: 5 })), 103, 'history');
      assert.equal(await code(client.client.presence('room:leadership-private')), 103, 'presence');
      assert.equal(await code(client.client.presenceStats('room:leadership-private')), 103, 'presence_stats');
      assert.equal(await code(client.client.publish('room:leadership-private', { text: 'let me in' })), 103, 'publish');
    }

    // A member adds the outsider: now they see it, get it in their sidebar, and may read it.
    const inbox = await subscribe(outsider.client, 'user:mallory');
    assert.deepEqual(await owner.rpc('chat.addMembers', { channel: 'room:leadership-private', users: ['mallory', 'mallory'] }), { added: ['mallory'] });
    const added = await waitForUserEvent(inbox, (e) => e.type === 'conversation', 'the new room reaches the added user');
    assert.equal(added.type === 'conversation' && added.conversation.private, true);
    assert.ok((await roomNames(outsider)).includes('leadership-private'));
    await subscribeExisting(refusedSubs[0]!);
    assert.deepEqual(await found(outsider, 'layoffs'), ['quarterly layoffs draft']);
    const rooms = (await outsider.rpc('chat.rooms', {})).rooms;
    assert.equal(rooms.find((room) => room.name === 'leadership-private')?.private, true);
  });

  test('raw protocol: a token\'s channels claim skips a private room, and a subscription token does not open it', async () => {
    const owner = await userClient('raw-owner', 'Rae');
    await owner.rpc('chat.createRoom', { name: 'raw-private', private: true });
    const raw = await openRaw(ts.wsUrl);
    try {
      const token = await mintToken({ sub: 'raw-outsider', channels: ['room:raw-private', 'room:general'] });
      raw.command(1, 'connect', { token, name: 'raw-test' });
      const connected = await raw.reply(1);
      assert.deepEqual(Object.keys(connected.connect.subs ?? {}), ['room:general'], 'the private room is skipped');
      const ask = commandAsker(raw);
      const subToken = await mintToken({ sub: 'raw-outsider', channel: 'room:raw-private' });
      const viaToken = await ask('subscribe', { channel: 'room:raw-private', token: subToken });
      assert.equal(viaToken.error?.code, 103, JSON.stringify(viaToken));
      for (const [method, body] of [
        ['subscribe', { channel: 'room:raw-private' }],
        ['history', { channel: 'room:raw-private', limit: 10 }],
        ['presence', { channel: 'room:raw-private' }],
        ['presence_stats', { channel: 'room:raw-private' }],
        ['publish', { channel: 'room:raw-private', data: { text: 'hi' } }],
      ] as const) {
        const reply = await ask(method, body);
        assert.deepEqual([method, reply.error?.code], [method, 103]);
      }
      assert.equal(raw.closed, undefined, 'refusals do not close the connection');
    } finally {
      raw.close();
    }
  });

  test('admins see private rooms marked and may join them; only members and admins add people', async () => {
    const owner = await userClient('pat', 'Pat');
    await owner.rpc('chat.createRoom', { name: 'board', private: true });
    const stranger = await userClient('sam', 'Sam');
    await assertRpcError(stranger.rpc('chat.addMembers', { channel: 'room:board', users: ['sam'] }), 103, /Only members/);
    await assertRpcError(owner.rpc('chat.addMembers', { channel: 'room:board', users: ['nobody-at-all'] }), 107, /no user/);
    await assertRpcError(owner.rpc('chat.addMembers', { channel: 'room:board', users: [] }), 107);
    await assertRpcError(owner.rpc('chat.addMembers', { channel: 'room:board', users: Array.from({ length: 51 }, (_, i) => `u${i}`) }), 107, /at most 50/);
    const admin = await userClient(ADMIN, 'Ada');
    const listed = (await admin.rpc('chat.rooms', {})).rooms.find((room) => room.name === 'board');
    assert.deepEqual(listed && [listed.private, listed.joined], [true, false]);
    await admin.rpc('chat.joinRoom', { name: 'board' });
    await subscribe(admin.client, 'room:board');
    assert.deepEqual(await admin.rpc('chat.addMembers', { channel: 'room:board', users: ['sam'] }), { added: ['sam'] });
  });

  test('a member who leaves no longer finds its messages', async () => {
    const ann = await userClient('leaver-a', 'Ann');
    const bob = await userClient('leaver-b', 'Bob');
    await ann.rpc('chat.createRoom', { name: 'secret-plans', private: true });
    await ann.rpc('chat.addMembers', { channel: 'room:secret-plans', users: ['leaver-b'] });
    await ann.rpc('chat.send', { channel: 'room:secret-plans', text: 'zeppelin rendezvous' });
    assert.deepEqual(await found(bob, 'zeppelin'), ['zeppelin rendezvous']);
    await bob.rpc('chat.leaveRoom', { name: 'secret-plans' });
    assert.deepEqual(await found(bob, 'zeppelin'), []);
    await assertRpcError(bob.rpc('chat.joinRoom', { name: 'secret-plans' }), 103, /private/);
  });

  test('whoever subscribed to a room name before it was created private, and a member who leaves a private room, stop receiving it', async () => {
    const lurker = await userClient('lurker', 'Lurker');
    const early = await subscribe(lurker.client, 'room:war-room');
    const owner = await guestClient(ts, { name: 'Orla' });
    await owner.rpc('chat.bootstrap', {});
    const member = await userClient('leaver', 'Leaver');
    await owner.rpc('chat.createRoom', { name: 'war-room', private: true });
    await waitFor(() => early.of('unsubscribed').length > 0, { message: 'the early subscriber was unsubscribed' });
    await owner.rpc('chat.addMembers', { channel: 'room:war-room', users: ['leaver'] });
    const memberSub = await subscribe(member.client, 'room:war-room');
    await member.rpc('chat.leaveRoom', { name: 'war-room' });
    await waitFor(() => memberSub.of('unsubscribed').length > 0, { message: 'the member who left was unsubscribed' });
    await owner.rpc('chat.send', { channel: 'room:war-room', text: 'after they left' });
    const watcher = await subscribe(owner.client, 'room:war-room');
    await owner.rpc('chat.send', { channel: 'room:war-room', text: 'checkpoint' });
    await waitForEvent(watcher, (e) => e.type === 'message' && e.message.text === 'checkpoint', 'the owner still receives the room');
    for (const sub of [early, memberSub]) {
      const texts = sub.of('publication').map((p) => (p.data as ChannelEvent)).filter((e) => e.type === 'message').map((e) => (e as { message: { text: string } }).message.text);
      assert.deepEqual(texts, [], 'nothing of the private room reached them');
    }
  });

});

describe('chat: moderation', () => {
  test('a moderator deletes someone else\'s message and bans them: the ban holds on reconnect and with a new token', async () => {
    const owner = await userClient('mod-owner', 'Owen');
    const mod = await userClient('mod-mod', 'Mona');
    await owner.rpc('chat.createRoom', { name: 'town-square' });
    await mod.rpc('chat.joinRoom', { name: 'town-square' });
    await owner.rpc('chat.moderate', { channel: 'room:town-square', action: 'setRole', user: 'mod-mod', role: 'moderator' });
    const troll = await userClient('troll', 'Troll');
    await troll.rpc('chat.joinRoom', { name: 'town-square' });
    const watcher = await subscribe(owner.client, 'room:town-square');
    const trollSub = await subscribe(troll.client, 'room:town-square');
    const trollInbox = await subscribe(troll.client, 'user:troll');
    const { message } = await troll.rpc('chat.send', { channel: 'room:town-square', text: 'buy cheap pills' });

    await mod.rpc('chat.delete', { channel: 'room:town-square', id: message.id });
    const deletion = await waitForEvent(watcher, (e) => e.type === 'delete', 'delete event');
    assert.deepEqual(deletion, { type: 'delete', id: message.id, byModerator: true });
    const [stored] = (await owner.rpc('chat.history', { channel: 'room:town-square' })).messages;
    assert.deepEqual(stored && [stored.seq, stored.deleted, stored.removedByModerator, stored.text], [1, true, true, '']);

    await mod.rpc('chat.moderate', { channel: 'room:town-square', action: 'ban', user: 'troll' });
    // The live subscription ends on the server's word (code 2000: the SDK does not resubscribe).
    await waitFor(() => trollSub.of('unsubscribed').length > 0, { message: 'the troll was unsubscribed' });
    const removed = await waitForUserEvent(trollInbox, (e) => e.type === 'removed', 'the troll is told');
    assert.deepEqual(removed, { type: 'removed', channel: 'room:town-square', reason: 'banned' } satisfies UserEvent);
    const banEvent = await waitForEvent<ChannelEvent>(watcher, (e) => e.type === 'member', 'member event');
    assert.equal(banEvent.type === 'member' && banEvent.change, 'banned');

    // A new connection with a fresh token: still refused everything.
    const back = await userClient('troll', 'Troll', { permissions: { '^room:': { subscribe: true, publish: true }, '^user:': { subscribe: true } } });
    assert.ok(!(await back.rpc('chat.bootstrap', {})).conversations.some((c) => c.channel === 'room:town-square'), 'gone from the sidebar');
    const again = makeSubscription(back.client, 'room:town-square');
    assert.equal(((await rejection(subscribeExisting(again))) as { code: number }).code, 103);
    assert.equal(await code(back.client.history('room:town-square', { limit: 5 })), 103);
    assert.equal(await code(back.client.publish('room:town-square', { text: 'I am back' })), 103);
    await assertRpcError(back.rpc('chat.joinRoom', { name: 'town-square' }), 103, /banned/);
    await assertRpcError(back.rpc('chat.send', { channel: 'room:town-square', text: 'hello?' }), 103, /banned/);
    await assertRpcError(back.rpc('chat.history', { channel: 'room:town-square' }), 103, /banned/);
    await assertRpcError(owner.rpc('chat.addMembers', { channel: 'room:town-square', users: ['troll'] }), 103, /banned/);

    const { bans } = await mod.rpc('chat.bans', { channel: 'room:town-square' });
    assert.deepEqual(bans.map((b) => [b.user.name, b.bannedBy.name]), [['Troll', 'Mona']]);
    await mod.rpc('chat.moderate', { channel: 'room:town-square', action: 'unban', user: 'troll' });
    await back.rpc('chat.joinRoom', { name: 'town-square' });
    await subscribeExisting(again);
  });

  test('a muted member reads but cannot write, until unmuted', async () => {
    const owner = await userClient('mute-owner', 'Mo');
    const quiet = await userClient('mute-quiet', 'Quinn');
    await owner.rpc('chat.createRoom', { name: 'library' });
    await quiet.rpc('chat.joinRoom', { name: 'library' });
    const { message } = await quiet.rpc('chat.send', { channel: 'room:library', text: 'before the mute' });
    const inbox = await subscribe(quiet.client, 'user:mute-quiet');
    await owner.rpc('chat.moderate', { channel: 'room:library', action: 'mute', user: 'mute-quiet' });
    assert.deepEqual(await waitForUserEvent(inbox, (e) => e.type === 'standing', 'standing event'), {
      type: 'standing', channel: 'room:library', role: 'member', muted: true,
    });
    const conversation = (await quiet.rpc('chat.bootstrap', {})).conversations.find((c) => c.channel === 'room:library');
    assert.equal(conversation?.muted, true);
    const muted = /You are muted in this room/;
    await assertRpcError(quiet.rpc('chat.send', { channel: 'room:library', text: 'shh' }), 103, muted);
    await assertRpcError(quiet.rpc('chat.edit', { channel: 'room:library', id: message.id, text: 'edited' }), 103, muted);
    await assertRpcError(quiet.rpc('chat.react', { channel: 'room:library', id: message.id, emoji: '👍' }), 103, muted);
    const publishError = await rejection(quiet.client.publish('room:library', { text: 'raw publish' }));
    assert.deepEqual([publishError.code, publishError.message], [103, 'You are muted in this room']);
    await subscribe(quiet.client, 'room:library');
    assert.equal((await quiet.rpc('chat.history', { channel: 'room:library' })).messages.length, 1, 'reading is allowed');
    const { members } = await owner.rpc('chat.members', { channel: 'room:library' });
    assert.deepEqual(members.map((m) => [m.id, m.role, m.muted]).sort(), [['mute-owner', 'owner', false], ['mute-quiet', 'member', true]]);
    await owner.rpc('chat.moderate', { channel: 'room:library', action: 'unmute', user: 'mute-quiet' });
    await quiet.rpc('chat.send', { channel: 'room:library', text: 'thanks' });
  });

  test('every moderation RPC is refused (103) to a non-moderator, and ranks hold', async () => {
    const owner = await userClient('rank-owner', 'Orla');
    const mod = await userClient('rank-mod', 'Milo');
    const member = await userClient('rank-member', 'Mel');
    const other = await userClient('rank-other', 'Oto');
    await owner.rpc('chat.createRoom', { name: 'ranks' });
    for (const client of [mod, member, other]) await client.rpc('chat.joinRoom', { name: 'ranks' });
    await owner.rpc('chat.moderate', { channel: 'room:ranks', action: 'setRole', user: 'rank-mod', role: 'moderator' });
    const { message } = await other.rpc('chat.send', { channel: 'room:ranks', text: 'mine' });

    const channel = 'room:ranks';
    for (const action of ['remove', 'mute', 'unmute', 'ban', 'unban'] as const) {
      await assertRpcError(member.rpc('chat.moderate', { channel, action, user: 'rank-other' }), 103, /owner and moderators/);
    }
    await assertRpcError(member.rpc('chat.moderate', { channel, action: 'setRole', user: 'rank-other', role: 'moderator' }), 103);
    await assertRpcError(member.rpc('chat.bans', { channel }), 103);
    await assertRpcError(member.rpc('chat.delete', { channel, id: message.id }), 103, /your own messages/);
    await assertRpcError(member.rpc('admin.audit' as never, {} as never), 103, /admins/);
    await assertRpcError(mod.rpc('admin.audit' as never, {} as never), 103, /admins/);

    await assertRpcError(mod.rpc('chat.moderate', { channel, action: 'setRole', user: 'rank-other', role: 'moderator' }), 103, /appoint/);
    await assertRpcError(mod.rpc('chat.moderate', { channel, action: 'ban', user: 'rank-owner' }), 103, /admin/);
    await assertRpcError(mod.rpc('chat.moderate', { channel, action: 'remove', user: 'rank-mod' }), 107, /yourself/);
    await assertRpcError(mod.rpc('chat.moderate', { channel, action: 'dance' as never, user: 'rank-other' }), 107, /action must be one of/);
    await assertRpcError(owner.rpc('chat.moderate', { channel, action: 'setRole', user: 'rank-other', role: 'owner' as never }), 107, /role/);

    // A moderator removes a plain member (who may come back: a removal is no ban).
    await mod.rpc('chat.moderate', { channel, action: 'remove', user: 'rank-other' });
    assert.ok(!(await other.rpc('chat.bootstrap', {})).conversations.some((c) => c.channel === channel));
    await other.rpc('chat.joinRoom', { name: 'ranks' });

    // The admin acts on the owner, and reads every action in the audit log with names.
    const admin = await userClient(ADMIN, 'Ada');
    await admin.rpc('chat.moderate', { channel, action: 'mute', user: 'rank-owner' });
    const audit = (await admin.client.rpc('admin.audit', { limit: 200 })).data as { entries: { action: string; actor: { name: string }; target?: { name: string }; channel?: string; detail?: string }[]; hasMore: boolean };
    const mine = audit.entries.filter((e) => e.channel === channel).map((e) => [e.action, e.actor.name, e.target?.name, e.detail]);
    assert.deepEqual(mine, [
      ['member.mute', 'Ada', 'Orla', undefined],
      ['member.remove', 'Milo', 'Oto', undefined],
      ['member.role', 'Orla', 'Milo', 'moderator'],
    ]);
    const page = (await admin.client.rpc('admin.audit', { limit: 1 })).data as { entries: { id: number }[]; hasMore: boolean };
    assert.equal(page.entries.length, 1);
    assert.equal(page.hasMore, true);
    const next = (await admin.client.rpc('admin.audit', { limit: 1, before: page.entries[0]!.id })).data as { entries: { id: number }[] };
    assert.ok(next.entries[0]!.id < page.entries[0]!.id, 'pages go back in time');
    await assertRpcError(admin.client.rpc('admin.audit', { limit: 0 }), 107);
  });
});

describe('chat: moderation where the moderator may not write', () => {
  test('an admin outside a private room removes a message in it; a muted member cannot add people', async () => {
    const owner = await guestClient(ts, { name: 'Petra' });
    await owner.rpc('chat.bootstrap', {});
    await owner.rpc('chat.createRoom', { name: 'annex', private: true });
    const { message } = await owner.rpc('chat.send', { channel: 'room:annex', text: 'off-topic spam' });
    const admin = await userClient(ADMIN, 'Ada Admin');
    await admin.rpc('chat.delete', { channel: 'room:annex', id: message.id });
    const [removed] = (await owner.rpc('chat.history', { channel: 'room:annex' })).messages;
    assert.deepEqual([removed?.deleted, removed?.removedByModerator], [true, true]);
    const outsider = await userClient('nosy', 'Nosy');
    await assertRpcError(outsider.rpc('chat.delete', { channel: 'room:annex', id: message.id }), 103, /private/);

    const quiet = await userClient('quiet-adder', 'Quiet Adder');
    await userClient('quiet-friend', 'Quiet Friend');
    await owner.rpc('chat.addMembers', { channel: 'room:annex', users: ['quiet-adder'] });
    await owner.rpc('chat.moderate', { channel: 'room:annex', action: 'mute', user: 'quiet-adder' });
    await assertRpcError(quiet.rpc('chat.addMembers', { channel: 'room:annex', users: ['quiet-friend'] }), 103, /muted/);
  });
});
