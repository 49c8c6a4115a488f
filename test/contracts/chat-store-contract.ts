import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GUEST_SESSION_TTL_MS, MAX_REACTION_EMOJI, type ChatStore } from '../../src/chat/chat-store.js';
import type { ChatMessage, ChatUser } from '../../src/chat/protocol.js';

/** What a contract run needs from an implementation. */
export interface ChatStoreFixture {
  /** A store on fresh, empty storage, not opened yet. */
  store: ChatStore;
  /** A new, not yet opened store on the same storage (called after the previous one is closed). */
  reopen: () => Promise<ChatStore>;
  /** Removes the storage; called after every store of the fixture is closed. */
  cleanup: () => Promise<void>;
}

/** A running test's store; `reopen` closes it and swaps in a store on the same storage. */
interface Ctx {
  readonly store: ChatStore;
  reopen(): Promise<ChatStore>;
}

const T0 = 1_700_000_000_000;
const HASH = '0123456789abcdef0123456789abcdef';
const ann: ChatUser = { id: 'ann', name: 'Ann', color: '#e03131', avatar: HASH };
const bob: ChatUser = { id: 'bob', name: 'Bob', color: '#1c7ed6' };
const cid: ChatUser = { id: 'cid', name: 'Cid', color: '#2b8a3e' };
const ROOM = 'room:lobby';

async function seedUsers(store: ChatStore, ...users: ChatUser[]): Promise<void> {
  for (const user of users) await store.upsertUser(user, T0);
}

async function say(store: ChatStore, channel: string, author: ChatUser, text: string, at = T0): Promise<ChatMessage> {
  return (await store.addMessage({ channel, author, text, createdAt: at })).message;
}

const texts = (messages: ChatMessage[]): string[] => messages.map((m) => m.text);
const seqs = (messages: ChatMessage[]): number[] => messages.map((m) => m.seq);

/**
 * Registers a `describe` block checking every guarantee documented on
 * {@link ChatStore}. Each test gets its own fixture from `makeStore`.
 */
export function runChatStoreContract(name: string, makeStore: () => Promise<ChatStoreFixture>): void {
  const run =
    (fn: (ctx: Ctx) => Promise<void>) =>
    async (_t: TestContext): Promise<void> => {
      const fixture = await makeStore();
      let store = fixture.store;
      await store.open();
      const ctx: Ctx = {
        get store() {
          return store;
        },
        async reopen() {
          await store.close();
          store = await fixture.reopen();
          await store.open();
          return store;
        },
      };
      try {
        await fn(ctx);
      } finally {
        try {
          await store.close();
        } finally {
          await fixture.cleanup();
        }
      }
    };

  describe(`ChatStore contract: ${name}`, () => {
    describe('users', () => {
      it('stores, replaces and returns profiles', run(async ({ store }) => {
        assert.equal(await store.getUser('ann'), undefined);
        await store.upsertUser(ann, T0);
        assert.deepEqual(await store.getUser('ann'), ann);
        const renamed = { id: 'ann', name: 'Annie', color: '#7950f2' };
        await store.upsertUser(renamed, T0 + 1);
        assert.deepEqual(await store.getUser('ann'), renamed, 'replaced, avatar removed');
      }));

      it("keeps an account's username on its profile, on member lists and on its messages' author", run(async ({ store }) => {
        await store.upsertUser(ann, T0);
        const claimed = { ...ann, username: 'ann.k' };
        await store.upsertUser(claimed, T0 + 1);
        assert.deepEqual(await store.getUser('ann'), claimed);
        await store.upsertUser({ ...ann, name: 'Annie' }, T0 + 2);
        assert.deepEqual(await store.getUser('ann'), { ...claimed, name: 'Annie' }, 'a profile edit without a username keeps it');
        const { message } = await store.addMessage({ channel: ROOM, author: claimed, text: 'hello', createdAt: T0 + 3 });
        assert.equal(message.author.username, 'ann.k');
        assert.deepEqual((await store.history(ROOM, { limit: 5 })).messages.map((m) => m.author), [claimed]);
      }));

      it('refuses an avatar that is not an MD5 hash (an email can never be stored)', run(async ({ store }) => {
        await assert.rejects(store.upsertUser({ ...bob, avatar: 'bob@example.com' }, T0), TypeError);
        assert.equal(await store.getUser('bob'), undefined);
        await assert.rejects(store.createGuestSession('h', { ...bob, avatar: 'bob@example.com' }, T0), TypeError);
        await assert.rejects(
          store.addMessage({ channel: ROOM, author: { ...bob, avatar: 'bob@example.com' }, text: 'x', createdAt: T0 }),
          TypeError,
        );
        assert.deepEqual((await store.history(ROOM, { limit: 5 })).messages, []);
        assert.equal(await store.useGuestSession('h', T0), undefined);
      }));

      it('claims the first visit exactly once per user', run(async (ctx) => {
        assert.equal(await ctx.store.claimFirstVisit('ann'), true);
        assert.equal(await ctx.store.claimFirstVisit('ann'), false);
        assert.equal(await ctx.store.claimFirstVisit('bob'), true);
        await ctx.reopen();
        assert.equal(await ctx.store.claimFirstVisit('ann'), false, 'remembered across a reopen');
      }));
    });

    describe('rooms', () => {
      it('creates rooms once, lists them by name with member counts and the joined flag', run(async ({ store }) => {
        await seedUsers(store, ann, bob);
        assert.equal(await store.createRoom({ name: 'lobby', topic: 'Hi', createdBy: 'ann', createdAt: T0 }), true);
        assert.equal(await store.createRoom({ name: 'lobby', topic: 'Other', createdBy: 'bob', createdAt: T0 + 5 }), false);
        assert.deepEqual(await store.getRoom('lobby'), { name: 'lobby', topic: 'Hi', createdBy: 'ann', createdAt: T0 });
        assert.equal(await store.getRoom('nope'), undefined);
        await store.createRoom({ name: 'attic', topic: '', createdBy: '', createdAt: T0 });
        assert.equal(await store.joinRoom('lobby', 'ann', T0), true);
        assert.equal(await store.joinRoom('lobby', 'ann', T0), false, 'already a member');
        await store.joinRoom('lobby', 'bob', T0 + 1);
        const rooms = await store.listRooms('bob');
        assert.deepEqual(rooms.map((r) => [r.name, r.members, r.joined]), [['attic', 0, false], ['lobby', 2, true]]);
        assert.equal(rooms[1]?.topic, 'Hi');
        assert.deepEqual((await store.listRooms('cid')).map((r) => r.joined), [false, false]);
      }));

      it('joins and leaves, listing members in join order; joining needs a room and a profile', run(async ({ store }) => {
        await seedUsers(store, ann, bob);
        await store.createRoom({ name: 'lobby', topic: '', createdBy: 'ann', createdAt: T0 });
        await store.joinRoom('lobby', 'bob', T0);
        await store.joinRoom('lobby', 'ann', T0 + 1);
        assert.deepEqual((await store.roomMembers('lobby')).map((u) => u.id), ['bob', 'ann']);
        assert.deepEqual((await store.roomMembers('lobby'))[1], ann, 'members come with their profiles');
        assert.equal(await store.leaveRoom('lobby', 'bob'), true);
        assert.equal(await store.leaveRoom('lobby', 'bob'), false);
        assert.deepEqual((await store.roomMembers('lobby')).map((u) => u.id), ['ann']);
        await assert.rejects(store.joinRoom('missing', 'ann', T0));
        await assert.rejects(store.joinRoom('lobby', 'ghost', T0));
        assert.deepEqual((await store.roomMembers('lobby')).map((u) => u.id), ['ann']);
      }));
    });

    describe('member versions', () => {
      it('go up with every join, leave and profile change of a member, and only then', run(async ({ store }) => {
        await seedUsers(store, ann, bob, cid);
        assert.equal(await store.membersVersion('lobby'), 0, 'no such room');
        await store.createRoom({ name: 'lobby', topic: '', createdBy: 'ann', createdAt: T0 });
        await store.createRoom({ name: 'attic', topic: '', createdBy: 'ann', createdAt: T0 });
        const versions: number[] = [await store.membersVersion('lobby')];
        const changed = async (what: string) => {
          const now = await store.membersVersion('lobby');
          assert.ok(now > versions.at(-1)!, `${what} moves the version`);
          versions.push(now);
        };
        const unchanged = async (what: string) => assert.equal(await store.membersVersion('lobby'), versions.at(-1), what);
        await store.joinRoom('lobby', 'ann', T0);
        await changed('a join');
        await store.joinRoom('lobby', 'ann', T0);
        await unchanged('joining again');
        await store.joinRoom('attic', 'cid', T0);
        await unchanged('a join elsewhere');
        await store.upsertUser({ ...ann, name: 'Annie' }, T0 + 1);
        await changed("a member's new name");
        await store.upsertUser({ ...ann, name: 'Annie', avatar: undefined }, T0 + 2);
        await changed("a member's avatar removed");
        await store.upsertUser({ ...cid, color: '#000000' }, T0 + 3);
        await unchanged("a non-member's profile");
        await store.leaveRoom('lobby', 'ann');
        await changed('a leave');
        await store.leaveRoom('lobby', 'ann');
        await unchanged('leaving again');
        assert.equal(await store.membersVersion('attic') > 0, true);
      }));
    });

    describe('direct messages', () => {
      it('opens one conversation per pair of known users, ids ascending', run(async ({ store }) => {
        await seedUsers(store, ann, bob);
        const first = await store.openDm('bob', 'ann', T0);
        assert.deepEqual(first, { dm: { channel: 'dm:ann,bob', users: ['ann', 'bob'], createdAt: T0 }, created: true });
        const again = await store.openDm('ann', 'bob', T0 + 9);
        assert.deepEqual(again, { dm: { channel: 'dm:ann,bob', users: ['ann', 'bob'], createdAt: T0 }, created: false });
        assert.deepEqual(await store.getDm('dm:ann,bob'), first?.dm);
        assert.equal(await store.openDm('ann', 'ann', T0), undefined, 'not with oneself');
        assert.equal(await store.openDm('ann', 'ghost', T0), undefined, 'not with an unknown user');
        assert.equal(await store.getDm('dm:ann,ghost'), undefined);
      }));
    });

    describe('messages', () => {
      it('numbers each channel from 1 up by 1, with random url-safe ids and an author snapshot', run(async ({ store }) => {
        await seedUsers(store, ann, bob);
        const a1 = await say(store, ROOM, ann, 'one', T0);
        const a2 = await say(store, ROOM, bob, 'two', T0 + 1);
        const b1 = await say(store, 'dm:ann,bob', ann, 'other', T0 + 2);
        const a3 = await say(store, ROOM, ann, 'three', T0 + 3);
        assert.deepEqual([a1.seq, a2.seq, a3.seq, b1.seq], [1, 2, 3, 1]);
        assert.deepEqual(a1, { id: a1.id, channel: ROOM, seq: 1, author: ann, text: 'one', createdAt: T0, reactions: {} });
        const ids = [a1, a2, a3, b1].map((m) => m.id);
        assert.equal(new Set(ids).size, 4);
        for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{8,}$/);
        await store.upsertUser({ ...ann, name: 'Renamed' }, T0 + 4);
        assert.equal((await store.getMessage(ROOM, a1.id))?.author.name, 'Ann', 'the author is a snapshot');
        assert.equal(await store.getMessage('dm:ann,bob', a1.id), undefined, 'messages belong to their channel');
      }));

      it('gives concurrent adds consecutive seqs and settles them in call order', run(async ({ store }) => {
        const settled: number[] = [];
        const adds = Array.from({ length: 20 }, (_, i) =>
          store.addMessage({ channel: ROOM, author: ann, text: `m${i}`, createdAt: T0 + i }).then((r) => {
            settled.push(r.message.seq);
            return r.message;
          }),
        );
        const messages = await Promise.all(adds);
        assert.deepEqual(seqs(messages), Array.from({ length: 20 }, (_, i) => i + 1));
        assert.deepEqual(settled, seqs(messages));
        assert.deepEqual(texts((await store.history(ROOM, { limit: 100 })).messages), messages.map((m) => m.text));
      }));

      it('returns the first message for a repeated (author, nonce) and adds nothing', run(async ({ store }) => {
        const first = await store.addMessage({ channel: ROOM, author: ann, text: 'hi', createdAt: T0, nonce: 'n1' });
        const retry = await store.addMessage({ channel: ROOM, author: ann, text: 'hi', createdAt: T0 + 5, nonce: 'n1' });
        assert.equal(first.created, true);
        assert.equal(retry.created, false);
        assert.deepEqual(retry.message, first.message);
        const other = await store.addMessage({ channel: ROOM, author: bob, text: 'hi', createdAt: T0, nonce: 'n1' });
        assert.equal(other.created, true, 'nonces are per author');
        assert.equal(other.message.seq, 2, 'the retry consumed no seq');
        const racing = await Promise.all([1, 2].map(() => store.addMessage({ channel: ROOM, author: cid, text: 'x', createdAt: T0, nonce: 'n2' })));
        assert.deepEqual(racing.map((r) => r.created), [true, false]);
        assert.equal(racing[0]?.message.id, racing[1]?.message.id);
      }));

      it('lets only the author edit, and records editedAt', run(async ({ store }) => {
        const m = await say(store, ROOM, ann, 'draft');
        assert.deepEqual(await store.editMessage(ROOM, m.id, 'bob', 'hacked', T0 + 1), { ok: false, reason: 'not-author' });
        assert.deepEqual(await store.editMessage(ROOM, 'nope', 'ann', 'x', T0 + 1), { ok: false, reason: 'not-found' });
        assert.deepEqual(await store.editMessage('room:other', m.id, 'ann', 'x', T0 + 1), { ok: false, reason: 'not-found' });
        const edited = await store.editMessage(ROOM, m.id, 'ann', 'final', T0 + 2);
        assert.deepEqual(edited, { ok: true, message: { ...m, text: 'final', editedAt: T0 + 2 } });
        assert.deepEqual(await store.getMessage(ROOM, m.id), { ...m, text: 'final', editedAt: T0 + 2 });
      }));

      it('lets only the author delete; a deleted message keeps its seq, loses text and reactions, and is frozen', run(async ({ store }) => {
        const m = await say(store, ROOM, ann, 'oops');
        await store.toggleReaction(ROOM, m.id, 'bob', '👍');
        assert.deepEqual(await store.deleteMessage(ROOM, m.id, 'bob'), { ok: false, reason: 'not-author' });
        const deleted = await store.deleteMessage(ROOM, m.id, 'ann');
        const expected = { ...m, text: '', deleted: true, reactions: {} };
        assert.deepEqual(deleted, { ok: true, message: expected });
        assert.deepEqual(await store.getMessage(ROOM, m.id), expected);
        assert.deepEqual(await store.deleteMessage(ROOM, m.id, 'ann'), { ok: false, reason: 'deleted' });
        assert.deepEqual(await store.editMessage(ROOM, m.id, 'ann', 'back', T0), { ok: false, reason: 'deleted' });
        assert.deepEqual(await store.toggleReaction(ROOM, m.id, 'bob', '👍'), { ok: false, reason: 'deleted' });
        assert.equal((await say(store, ROOM, ann, 'next')).seq, 2);
      }));

      it('toggles reactions, keeping users and emoji in reaction order', run(async ({ store }) => {
        const m = await say(store, ROOM, ann, 'vote');
        const react = async (user: string, emoji: string) => {
          const change = await store.toggleReaction(ROOM, m.id, user, emoji);
          assert.ok(change.ok);
          return change.message.reactions;
        };
        assert.deepEqual(await react('bob', '👍'), { '👍': ['bob'] });
        assert.deepEqual(await react('ann', '🎉'), { '👍': ['bob'], '🎉': ['ann'] });
        assert.deepEqual(await react('ann', '👍'), { '👍': ['bob', 'ann'], '🎉': ['ann'] });
        assert.deepEqual(await react('bob', '👍'), { '👍': ['ann'], '🎉': ['ann'] }, 'toggled off');
        assert.deepEqual(await react('ann', '🎉'), { '👍': ['ann'] }, 'an emoji without users disappears');
        assert.deepEqual(Object.keys((await store.getMessage(ROOM, m.id))!.reactions), ['👍']);
        assert.deepEqual(await store.toggleReaction(ROOM, 'nope', 'ann', '👍'), { ok: false, reason: 'not-found' });
      }));

      it(`refuses more than ${MAX_REACTION_EMOJI} distinct emoji on a message`, run(async ({ store }) => {
        const m = await say(store, ROOM, ann, 'many');
        const emoji = Array.from({ length: MAX_REACTION_EMOJI + 1 }, (_, i) => String.fromCodePoint(0x1f600 + i));
        for (const e of emoji.slice(0, MAX_REACTION_EMOJI)) assert.equal((await store.toggleReaction(ROOM, m.id, 'bob', e)).ok, true);
        assert.deepEqual(await store.toggleReaction(ROOM, m.id, 'bob', emoji.at(-1)!), { ok: false, reason: 'too-many-reactions' });
        assert.equal((await store.toggleReaction(ROOM, m.id, 'ann', emoji[0]!)).ok, true, 'an existing emoji still takes more users');
      }));

      it('pages history oldest first with before, limit and hasMore', run(async ({ store }) => {
        for (let i = 1; i <= 7; i++) await say(store, ROOM, ann, `m${i}`, T0 + i);
        assert.deepEqual(await store.history('room:empty', { limit: 5 }), { messages: [], hasMore: false });
        const latest = await store.history(ROOM, { limit: 3 });
        assert.deepEqual(texts(latest.messages), ['m5', 'm6', 'm7']);
        assert.equal(latest.hasMore, true);
        const older = await store.history(ROOM, { before: 5, limit: 3 });
        assert.deepEqual(texts(older.messages), ['m2', 'm3', 'm4']);
        assert.equal(older.hasMore, true);
        const oldest = await store.history(ROOM, { before: 2, limit: 3 });
        assert.deepEqual(texts(oldest.messages), ['m1']);
        assert.equal(oldest.hasMore, false);
        assert.equal((await store.history(ROOM, { limit: 7 })).hasMore, false);
      }));

      it('shows deleted messages in history as deleted, with empty text', run(async ({ store }) => {
        const m = await say(store, ROOM, ann, 'secret');
        await say(store, ROOM, ann, 'kept');
        await store.deleteMessage(ROOM, m.id, 'ann');
        const page = await store.history(ROOM, { limit: 10 });
        assert.deepEqual(page.messages.map((x) => [x.seq, x.text, x.deleted ?? false]), [[1, '', true], [2, 'kept', false]]);
      }));
    });

    describe('read state', () => {
      it('moves read positions forward only, never past the last seq', run(async ({ store }) => {
        for (let i = 1; i <= 5; i++) await say(store, ROOM, bob, `m${i}`);
        assert.deepEqual(await store.markRead('ann', ROOM, 3), { seq: 3, moved: true });
        assert.deepEqual(await store.markRead('ann', ROOM, 2), { seq: 3, moved: false });
        assert.deepEqual(await store.markRead('ann', ROOM, 3), { seq: 3, moved: false });
        assert.deepEqual(await store.markRead('ann', ROOM, 99), { seq: 5, moved: true }, 'capped at the last seq');
        assert.deepEqual(await store.markRead('ann', 'room:empty', 4), { seq: 0, moved: false });
        assert.equal((await store.readState('bob', ROOM)).lastReadSeq, 0, 'positions are per user');
        await assert.rejects(store.markRead('ann', ROOM, -1));
      }));

      it('counts unread messages from others after the position, skipping deleted ones', run(async ({ store }) => {
        assert.deepEqual(await store.readState('ann', ROOM), { lastSeq: 0, lastReadSeq: 0, unread: 0 });
        await say(store, ROOM, bob, 'b1', T0 + 1);
        await say(store, ROOM, ann, 'mine', T0 + 2);
        const gone = await say(store, ROOM, bob, 'b2', T0 + 3);
        await say(store, ROOM, cid, 'c1', T0 + 4);
        assert.deepEqual(await store.readState('ann', ROOM), { lastSeq: 4, lastReadSeq: 0, unread: 3, lastMessageAt: T0 + 4 });
        await store.deleteMessage(ROOM, gone.id, 'bob');
        assert.equal((await store.readState('ann', ROOM)).unread, 2);
        await store.markRead('ann', ROOM, 2);
        assert.equal((await store.readState('ann', ROOM)).unread, 1);
        assert.equal((await store.readState('bob', ROOM)).unread, 2, "bob's own messages do not count for him");
      }));

      it('lists conversations: joined rooms then DMs, with peers and read states', run(async ({ store }) => {
        await seedUsers(store, ann, bob, cid);
        await store.createRoom({ name: 'lobby', topic: 'Welcome', createdBy: '', createdAt: T0 });
        await store.createRoom({ name: 'attic', topic: '', createdBy: '', createdAt: T0 });
        await store.joinRoom('lobby', 'ann', T0);
        await store.openDm('ann', 'bob', T0);
        await store.openDm('cid', 'ann', T0 + 1);
        await store.openDm('bob', 'cid', T0 + 2);
        await say(store, 'dm:ann,bob', bob, 'psst', T0 + 10);
        const list = await store.conversationsOf('ann');
        assert.deepEqual(list, [
          { kind: 'room', channel: ROOM, room: { name: 'lobby', topic: 'Welcome', createdBy: '', createdAt: T0 }, lastSeq: 0, lastReadSeq: 0, unread: 0 },
          { kind: 'dm', channel: 'dm:ann,bob', peer: bob, lastSeq: 1, lastReadSeq: 0, unread: 1, lastMessageAt: T0 + 10 },
          { kind: 'dm', channel: 'dm:ann,cid', peer: cid, lastSeq: 0, lastReadSeq: 0, unread: 0 },
        ]);
        assert.deepEqual(await store.conversationOf('bob', 'dm:ann,bob'), { ...list[1], peer: ann, unread: 0 });
        assert.equal(await store.conversationOf('cid', 'dm:ann,bob'), undefined, 'not a DM of theirs');
        assert.equal((await store.conversationOf('cid', 'room:attic'))?.kind, 'room', 'any room, joined or not');
        assert.equal(await store.conversationOf('ann', 'room:missing'), undefined);
        await store.leaveRoom('lobby', 'ann');
        assert.deepEqual((await store.conversationsOf('ann')).map((c) => c.channel), ['dm:ann,bob', 'dm:ann,cid']);
      }));
    });

    describe('search', () => {
      it('finds every word as a prefix, ignoring case and diacritics, newest first, limited', run(async ({ store }) => {
        await say(store, ROOM, ann, 'The quick brown fox', T0 + 1);
        await say(store, ROOM, bob, 'A QUICK test of the café', T0 + 2);
        await say(store, ROOM, ann, 'slow brown bear', T0 + 3);
        const find = async (q: string, limit = 10) => texts(await store.search(q, { channels: [ROOM], limit }));
        assert.deepEqual(await find('quick'), ['A QUICK test of the café', 'The quick brown fox']);
        assert.deepEqual(await find('qui'), ['A QUICK test of the café', 'The quick brown fox'], 'prefix');
        assert.deepEqual(await find('brown qu'), ['The quick brown fox'], 'all words');
        assert.deepEqual(await find('cafe'), ['A QUICK test of the café'], 'diacritics ignored');
        assert.deepEqual(await find('brown', 1), ['slow brown bear'], 'newest first, limited');
        assert.deepEqual(await find('zebra'), []);
        assert.deepEqual(await find('   '), []);
      }));

      it('never reads the query as syntax', run(async ({ store }) => {
        await say(store, ROOM, ann, 'foo and bar near baz');
        for (const q of ['"foo AND (', 'foo*', 'NEAR(foo bar)', 'text:foo', '-foo', '^foo', 'foo OR', '(', '"', '*', "'; DROP TABLE messages; --", 'AND', '\u0000foo']) {
          const found = await store.search(q, { channels: [ROOM], limit: 10 });
          assert.ok(Array.isArray(found), q);
        }
        assert.equal((await store.search('"foo AND (', { channels: [ROOM], limit: 10 })).length, 1, 'words foo and AND');
        assert.equal((await store.search('foo OR zebra', { channels: [ROOM], limit: 10 })).length, 0, 'OR is a word here');
        assert.equal((await store.history(ROOM, { limit: 10 })).messages.length, 1);
      }));

      it('searches only the given channels', run(async ({ store }) => {
        await say(store, ROOM, ann, 'apple in the lobby');
        await say(store, 'dm:ann,bob', ann, 'apple in private');
        await say(store, 'room:other', ann, 'apple elsewhere');
        assert.deepEqual(texts(await store.search('apple', { channels: [ROOM], limit: 10 })), ['apple in the lobby']);
        assert.equal((await store.search('apple', { channels: [ROOM, 'room:other'], limit: 10 })).length, 2);
        assert.deepEqual(await store.search('apple', { channels: [], limit: 10 }), []);
      }));

      it('reflects edits and deletions', run(async ({ store }) => {
        const m = await say(store, ROOM, ann, 'original wording');
        await store.editMessage(ROOM, m.id, 'ann', 'revised phrasing', T0 + 1);
        assert.deepEqual(await store.search('original', { channels: [ROOM], limit: 10 }), []);
        const found = await store.search('revised', { channels: [ROOM], limit: 10 });
        assert.deepEqual(found.map((x) => [x.id, x.text, x.editedAt]), [[m.id, 'revised phrasing', T0 + 1]]);
        await store.deleteMessage(ROOM, m.id, 'ann');
        assert.deepEqual(await store.search('revised', { channels: [ROOM], limit: 10 }), []);
      }));
    });

    describe('guest sessions', () => {
      it('finds sessions by token hash until revoked', run(async ({ store }) => {
        await store.createGuestSession('hash-1', ann, T0);
        assert.deepEqual(await store.useGuestSession('hash-1', T0 + 1), ann);
        assert.equal(await store.useGuestSession('hash-2', T0 + 1), undefined);
        assert.equal(await store.revokeGuestSession('hash-1'), true);
        assert.equal(await store.revokeGuestSession('hash-1'), false);
        assert.equal(await store.useGuestSession('hash-1', T0 + 2), undefined);
      }));

      it(`expires a session ${GUEST_SESSION_TTL_MS / 86_400_000} days after its last use (sliding)`, run(async ({ store }) => {
        await store.createGuestSession('h', bob, T0);
        const almost = T0 + GUEST_SESSION_TTL_MS - 1;
        assert.deepEqual(await store.useGuestSession('h', almost), bob, 'still valid just before');
        assert.deepEqual(await store.useGuestSession('h', almost + GUEST_SESSION_TTL_MS - 1), bob, 'the last use restarted the period');
        assert.equal(await store.useGuestSession('h', almost + 2 * GUEST_SESSION_TTL_MS), undefined, 'expired');
        assert.equal(await store.useGuestSession('h', almost), undefined, 'and gone for good');
      }));
    });

    describe('atomicity and durability', () => {
      it('fails one write alone, even when it is committed with others', run(async ({ store }) => {
        await seedUsers(store, ann);
        const [added, join, again] = await Promise.allSettled([
          store.addMessage({ channel: ROOM, author: ann, text: 'a', createdAt: T0 }),
          store.joinRoom('missing', 'ann', T0),
          store.addMessage({ channel: ROOM, author: ann, text: 'b', createdAt: T0 }),
        ]);
        assert.equal(added.status, 'fulfilled');
        assert.equal(join.status, 'rejected');
        assert.equal(again.status, 'fulfilled');
        assert.deepEqual(texts((await store.history(ROOM, { limit: 10 })).messages), ['a', 'b']);
        assert.deepEqual(await store.conversationsOf('ann'), []);
      }));

      it('keeps every kind of state across close and reopen', run(async (ctx) => {
        let store = ctx.store;
        await seedUsers(store, ann, bob);
        await store.createRoom({ name: 'lobby', topic: 'T', createdBy: 'ann', createdAt: T0 });
        await store.joinRoom('lobby', 'bob', T0);
        await store.openDm('ann', 'bob', T0);
        const m1 = await say(store, ROOM, ann, 'hello persistent world', T0 + 1);
        const m2 = (await store.addMessage({ channel: ROOM, author: ann, text: 'second', createdAt: T0 + 2, nonce: 'k' })).message;
        const m3 = await say(store, ROOM, ann, 'third', T0 + 3);
        await store.editMessage(ROOM, m1.id, 'ann', 'hello durable world', T0 + 4);
        await store.deleteMessage(ROOM, m3.id, 'ann');
        await store.toggleReaction(ROOM, m2.id, 'bob', '🎉');
        await store.markRead('bob', ROOM, 2);
        await store.createGuestSession('hash', bob, T0);
        // Called but not awaited: close() must still make it durable.
        const pending = store.addMessage({ channel: 'dm:ann,bob', author: bob, text: 'last words', createdAt: T0 + 5 });

        store = await ctx.reopen();
        assert.equal((await pending).message.seq, 1);
        assert.deepEqual(await store.getUser('ann'), ann);
        assert.deepEqual(await store.getRoom('lobby'), { name: 'lobby', topic: 'T', createdBy: 'ann', createdAt: T0 });
        assert.deepEqual((await store.roomMembers('lobby')).map((u) => u.id), ['bob']);
        assert.deepEqual(await store.getDm('dm:ann,bob'), { channel: 'dm:ann,bob', users: ['ann', 'bob'], createdAt: T0 });
        const page = await store.history(ROOM, { limit: 10 });
        assert.deepEqual(page.messages.map((m) => [m.seq, m.text, m.editedAt, m.deleted, m.reactions]), [
          [1, 'hello durable world', T0 + 4, undefined, {}],
          [2, 'second', undefined, undefined, { '🎉': ['bob'] }],
          [3, '', undefined, true, {}],
        ]);
        assert.deepEqual(await store.readState('bob', ROOM), { lastSeq: 3, lastReadSeq: 2, unread: 0, lastMessageAt: T0 + 3 });
        assert.deepEqual(texts(await store.search('durable', { channels: [ROOM], limit: 5 })), ['hello durable world']);
        assert.deepEqual(await store.search('persistent', { channels: [ROOM], limit: 5 }), []);
        assert.deepEqual(texts((await store.history('dm:ann,bob', { limit: 5 })).messages), ['last words']);
        assert.deepEqual(await store.useGuestSession('hash', T0 + 1), bob);
        const retry = await store.addMessage({ channel: ROOM, author: ann, text: 'second', createdAt: T0 + 9, nonce: 'k' });
        assert.equal(retry.created, false, 'nonces survive');
        assert.equal(retry.message.id, m2.id);
        assert.equal((await say(store, ROOM, ann, 'after')).seq, 4, 'seq continues');
      }));
    });
  });
}
