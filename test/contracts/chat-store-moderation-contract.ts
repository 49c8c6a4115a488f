import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatStore } from '../../src/chat/chat-store.js';
import type { ChatUser } from '../../src/chat/protocol.js';

/** The contract's per-test runner: a fresh store, reopenable on the same storage. */
type Run = (fn: (ctx: { readonly store: ChatStore; reopen(): Promise<ChatStore> }) => Promise<void>) => (t: TestContext) => Promise<void>;

const T0 = 1_700_000_000_000;
const ann: ChatUser = { id: 'ann', name: 'Ann', color: '#e03131' };
const bob: ChatUser = { id: 'bob', name: 'Bob', color: '#1c7ed6' };
const cid: ChatUser = { id: 'cid', name: 'Cid', color: '#2b8a3e' };

async function roomWithMembers(store: ChatStore, visibility: 'public' | 'private'): Promise<void> {
  for (const user of [ann, bob, cid]) await store.upsertUser(user, T0);
  await store.createRoom({ name: 'lobby', topic: '', createdBy: 'ann', createdAt: T0, visibility });
  await store.joinRoom('lobby', 'ann', T0, 'owner');
  await store.joinRoom('lobby', 'bob', T0 + 1);
}

/** The private-room, role, mute, ban and moderator-removal guarantees of {@link ChatStore}. */
export function describeRoomModeration(run: Run): void {
  describe('room moderation', () => {
    it('hides private rooms from non-members in listRooms, unless every room is asked for', run(async ({ store }) => {
      await roomWithMembers(store, 'private');
      await store.createRoom({ name: 'open', topic: '', createdBy: 'cid', createdAt: T0 });
      assert.equal((await store.getRoom('lobby'))?.visibility, 'private');
      assert.equal((await store.getRoom('open'))?.visibility, 'public', 'public by default');
      assert.deepEqual((await store.listRooms('cid')).map((r) => r.name), ['open'], 'outsider');
      assert.deepEqual((await store.listRooms('bob')).map((r) => [r.name, r.joined, r.visibility]), [
        ['lobby', true, 'private'],
        ['open', false, 'public'],
      ]);
      const all = await store.listRooms('cid', { includePrivate: true });
      assert.deepEqual(all.map((r) => [r.name, r.joined, r.members]), [['lobby', false, 2], ['open', false, 0]]);
    }));

    it('answers what a user may do in a room in one read: visibility, standing, ban', run(async ({ store }) => {
      await roomWithMembers(store, 'private');
      assert.deepEqual(await store.roomAccess('lobby', 'ann'), { visibility: 'private', member: { role: 'owner', muted: false }, banned: false });
      assert.deepEqual(await store.roomAccess('lobby', 'bob'), { visibility: 'private', member: { role: 'member', muted: false }, banned: false });
      assert.deepEqual(await store.roomAccess('lobby', 'cid'), { visibility: 'private', member: undefined, banned: false });
      assert.equal(await store.roomAccess('missing', 'ann'), undefined);
    }));

    it('changes roles and mutes of members only, and lists the notable standings', run(async (ctx) => {
      await roomWithMembers(ctx.store, 'public');
      await ctx.store.joinRoom('lobby', 'cid', T0 + 2);
      assert.equal(await ctx.store.setStanding('lobby', 'bob', { role: 'moderator' }), true);
      assert.equal(await ctx.store.setStanding('lobby', 'cid', { muted: true }), true);
      assert.equal(await ctx.store.setStanding('lobby', 'nobody', { muted: true }), false, 'not a member');
      const store = await ctx.reopen();
      assert.deepEqual(await store.memberStandings('lobby'), new Map([
        ['ann', { role: 'owner', muted: false }],
        ['bob', { role: 'moderator', muted: false }],
        ['cid', { role: 'member', muted: true }],
      ]));
      assert.deepEqual((await store.roomAccess('lobby', 'cid'))?.member, { role: 'member', muted: true });
      assert.deepEqual((await store.listRooms('cid')).map((r) => [r.name, r.joined, r.standing]), [['lobby', true, { role: 'member', muted: true }]]);
      assert.deepEqual((await store.listRooms('nobody')).map((r) => [r.joined, r.standing]), [[false, undefined]]);
      await store.setStanding('lobby', 'cid', { muted: false });
      await store.setStanding('lobby', 'bob', { role: 'member' });
      assert.deepEqual([...(await store.memberStandings('lobby')).keys()], ['ann']);
      const [conversation] = await store.conversationsOf('ann');
      assert.deepEqual(conversation?.kind === 'room' && conversation.standing, { role: 'owner', muted: false });
      const outside = await store.conversationOf('cid', 'room:missing');
      assert.equal(outside, undefined);
      await store.leaveRoom('lobby', 'cid');
      const left = await store.conversationOf('cid', 'room:lobby');
      assert.equal(left?.kind === 'room' ? left.standing : 'dm', undefined, 'no standing once left');
    }));

    it('bans: removes the membership, keeps the first ban, prevents joining until lifted', run(async (ctx) => {
      await roomWithMembers(ctx.store, 'public');
      const versionBefore = await ctx.store.membersVersion('lobby');
      assert.deepEqual(await ctx.store.banFromRoom('lobby', { userId: 'bob', bannedBy: 'ann', bannedAt: T0 + 5 }), { banned: true, wasMember: true });
      assert.ok((await ctx.store.membersVersion('lobby')) > versionBefore, 'the member list changed');
      assert.deepEqual(await ctx.store.banFromRoom('lobby', { userId: 'bob', bannedBy: 'cid', bannedAt: T0 + 6 }), { banned: false, wasMember: false });
      assert.deepEqual(await ctx.store.banFromRoom('lobby', { userId: 'cid', bannedBy: 'ann', bannedAt: T0 + 7 }), { banned: true, wasMember: false });
      assert.equal(await ctx.store.joinRoom('lobby', 'bob', T0 + 8), false, 'banned users cannot join');
      const store = await ctx.reopen();
      assert.deepEqual((await store.roomMembers('lobby')).map((u) => u.id), ['ann']);
      assert.deepEqual(await store.roomAccess('lobby', 'bob'), { visibility: 'public', member: undefined, banned: true });
      assert.deepEqual(await store.roomBans('lobby'), [
        { userId: 'cid', user: cid, bannedBy: 'ann', bannedAt: T0 + 7 },
        { userId: 'bob', user: bob, bannedBy: 'ann', bannedAt: T0 + 5 },
      ]);
      assert.equal(await store.unbanFromRoom('lobby', 'bob'), true);
      assert.equal(await store.unbanFromRoom('lobby', 'bob'), false, 'no ban left');
      assert.equal((await store.roomAccess('lobby', 'bob'))?.member, undefined, 'lifting a ban does not re-add');
      assert.equal(await store.joinRoom('lobby', 'bob', T0 + 9), true);
      assert.deepEqual((await store.roomBans('lobby')).map((b) => b.userId), ['cid']);
    }));

    it('lets a moderator remove anyone\'s message, keeping its seq and saying who removed it', run(async (ctx) => {
      await roomWithMembers(ctx.store, 'public');
      const channel = 'room:lobby';
      const first = (await ctx.store.addMessage({ channel, author: bob, text: 'spam spam', createdAt: T0 })).message;
      await ctx.store.addMessage({ channel, author: ann, text: 'fine', createdAt: T0 + 1 });
      await ctx.store.toggleReaction(channel, first.id, 'ann', '👍');
      const removed = await ctx.store.removeMessage(channel, first.id, 'ann');
      assert.ok(removed.ok);
      assert.deepEqual(
        removed.ok && [removed.message.seq, removed.message.text, removed.message.deleted, removed.message.removedByModerator, removed.message.reactions],
        [1, '', true, true, {}],
      );
      assert.deepEqual(await ctx.store.removeMessage(channel, first.id, 'ann'), { ok: false, reason: 'deleted' });
      assert.deepEqual(await ctx.store.removeMessage(channel, 'nope', 'ann'), { ok: false, reason: 'not-found' });
      const store = await ctx.reopen();
      const page = await store.history(channel, { limit: 5 });
      assert.deepEqual(page.messages.map((m) => [m.seq, m.text, m.deleted, m.removedByModerator]), [
        [1, '', true, true],
        [2, 'fine', undefined, undefined],
      ]);
      assert.deepEqual(await store.search('spam', { channels: [channel], limit: 5 }), [], 'no longer found');
      const own = (await store.addMessage({ channel, author: bob, text: 'mine', createdAt: T0 + 2 })).message;
      const deleted = await store.deleteMessage(channel, own.id, 'bob');
      assert.equal(deleted.ok && deleted.message.removedByModerator, undefined, "an author's own deletion is not a moderator's");
    }));
  });
}
