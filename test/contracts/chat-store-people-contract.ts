import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DM_USERS, type ChatStore, type DirectorySearch } from '../../src/chat/chat-store.js';
import { queryWords } from '../../src/chat/people-search.js';
import type { ChatUser } from '../../src/chat/protocol.js';
import { chatStoreTest, type ChatStoreFixture } from './chat-store-contract.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const ann: ChatUser = { id: 'ann', name: 'Ann Lee', color: '#e03131' };
const bob: ChatUser = { id: 'bob', name: 'Bob', color: '#1c7ed6' };
const cid: ChatUser = { id: 'cid', name: 'Cid', color: '#2b8a3e' };
const dee: ChatUser = { id: 'dee', name: 'Dée-Marie', color: '#7950f2' };

async function seedUsers(store: ChatStore, ...users: ChatUser[]): Promise<void> {
  for (const user of users) await store.upsertUser(user, T0);
}

/** Ids of a directory search with the given query, everyone else as given. */
async function found(store: ChatStore, query: string, rest: Partial<DirectorySearch> = {}): Promise<string[]> {
  return (await store.searchUsers({ words: queryWords(query), limit: 50, guestsSeenSince: 0, ...rest })).map((e) => e.user.id);
}

/**
 * Checks a store opened on data written before group DMs and people
 * existed: users `ann` ("Ann-Marie Lée", profile changed at 5) and `bob`,
 * and their DM `dm:ann,bob` created at 7.
 */
export async function assertMigratedPeople(store: ChatStore): Promise<void> {
  assert.deepEqual(await store.getDm('dm:ann,bob'), { channel: 'dm:ann,bob', users: ['ann', 'bob'], createdAt: 7 });
  assert.deepEqual((await store.conversationsOf('bob')).map((c) => c.kind === 'dm' && c.peers.map((p) => p.id)), [['ann']]);
  assert.deepEqual(await store.userDetails(['ann']), new Map([['ann', { lastSeenAt: 5 }]]), 'last seen starts at the last profile change');
  const found = await store.searchUsers({ words: ['lee'], limit: 5, guestsSeenSince: 0 });
  assert.deepEqual(found.map((e) => e.user.id), ['ann'], 'search keys filled for old rows');
}

/**
 * The group-DM, last-seen, directory and guest-expiry guarantees of
 * {@link ChatStore}, for every implementation.
 */
export function runChatStorePeopleContract(name: string, makeStore: () => Promise<ChatStoreFixture>): void {
  const run = chatStoreTest(makeStore);

  describe(`ChatStore contract (people and groups): ${name}`, () => {
    it('opens one group DM per set of people, whatever the order; participants are fixed and need profiles', run(async ({ store }) => {
      await seedUsers(store, ann, bob, cid, dee);
      const first = await store.openGroup(['cid', 'ann', 'bob'], T0);
      assert.deepEqual(first, { dm: { channel: 'dm:ann,bob,cid', users: ['ann', 'bob', 'cid'], createdAt: T0 }, created: true });
      const again = await store.openGroup(['bob', 'cid', 'ann', 'bob'], T0 + 5);
      assert.deepEqual(again, { dm: first!.dm, created: false }, 'repeats count once; the first DM is returned');
      assert.deepEqual(await store.getDm('dm:ann,bob,cid'), first!.dm);
      assert.equal(await store.openGroup(['ann', 'bob', 'ghost'], T0), undefined, 'everyone needs a profile');
      assert.equal(await store.getDm('dm:ann,bob,ghost'), undefined);
      assert.equal(await store.openGroup(['ann', 'ann'], T0), undefined, 'not with oneself');
      const many = Array.from({ length: MAX_DM_USERS + 1 }, (_, i) => ({ id: `u${i}`, name: `U${i}`, color: '#000000' }));
      await seedUsers(store, ...many);
      assert.equal(await store.openGroup(many.map((u) => u.id), T0), undefined, `at most ${MAX_DM_USERS} people`);
      const eight = await store.openGroup(many.slice(0, MAX_DM_USERS).map((u) => u.id), T0);
      assert.equal(eight?.dm.users.length, MAX_DM_USERS);

      const oneToOne = await store.openDm('bob', 'ann', T0 + 1);
      assert.equal(oneToOne?.dm.channel, 'dm:ann,bob', 'a 1:1 DM is a different conversation');
      assert.deepEqual((await store.openGroup(['ann', 'bob'], T0 + 2))?.dm, oneToOne?.dm, 'a group of two is the 1:1 DM');
    }));

    it('lists a group DM for each participant with the other people as peers, and for no one else', run(async ({ store }) => {
      await seedUsers(store, ann, bob, cid, dee);
      await store.openGroup(['ann', 'bob', 'cid'], T0);
      await store.openDm('ann', 'dee', T0 + 1);
      await store.addMessage({ channel: 'dm:ann,bob,cid', author: bob, text: 'hi all', createdAt: T0 + 10 });
      const anns = await store.conversationsOf('ann');
      assert.deepEqual(anns, [
        { kind: 'dm', channel: 'dm:ann,bob,cid', peers: [bob, cid], lastSeq: 1, lastReadSeq: 0, unread: 1, lastMessageAt: T0 + 10 },
        { kind: 'dm', channel: 'dm:ann,dee', peers: [dee], lastSeq: 0, lastReadSeq: 0, unread: 0 },
      ]);
      assert.deepEqual(await store.conversationOf('cid', 'dm:ann,bob,cid'), { ...anns[0], peers: [ann, bob] });
      assert.deepEqual((await store.conversationsOf('bob')).map((c) => c.channel), ['dm:ann,bob,cid']);
      assert.equal(await store.conversationOf('dee', 'dm:ann,bob,cid'), undefined);
      assert.deepEqual(await store.conversationsOf('dee'), [{ kind: 'dm', channel: 'dm:ann,dee', peers: [ann], lastSeq: 0, lastReadSeq: 0, unread: 0 }]);
    }));

    it('keeps DMs, usernames and last-seen times across close and reopen', run(async (ctx) => {
      await seedUsers(ctx.store, ann, bob, cid);
      await ctx.store.openGroup(['ann', 'bob', 'cid'], T0);
      await ctx.store.openDm('ann', 'bob', T0);
      await ctx.store.recordSeen('ann', { at: T0 + 5, username: 'ann.lee' });
      const store = await ctx.reopen();
      assert.deepEqual(await store.getDm('dm:ann,bob,cid'), { channel: 'dm:ann,bob,cid', users: ['ann', 'bob', 'cid'], createdAt: T0 });
      assert.deepEqual(await store.getDm('dm:ann,bob'), { channel: 'dm:ann,bob', users: ['ann', 'bob'], createdAt: T0 });
      assert.deepEqual(await store.userDetails(['ann', 'bob']), new Map([['ann', { username: 'ann.lee', lastSeenAt: T0 + 5 }], ['bob', { lastSeenAt: T0 }]]));
      assert.deepEqual(await found(store, 'lee'), ['ann'], 'found by username word after reopen');
    }));

    it('records last seen forward only, with the username; a new profile counts as seen when created', run(async ({ store }) => {
      await store.upsertUser(ann, T0);
      assert.deepEqual(await store.userDetails(['ann', 'ghost']), new Map([['ann', { lastSeenAt: T0 }]]));
      await store.recordSeen('ann', { at: T0 + 100, username: 'annie' });
      await store.recordSeen('ann', { at: T0 + 50, username: 'annie' });
      assert.deepEqual((await store.userDetails(['ann'])).get('ann'), { username: 'annie', lastSeenAt: T0 + 100 });
      await store.upsertUser({ ...ann, name: 'Ann Renamed' }, T0 + 200);
      assert.deepEqual((await store.userDetails(['ann'])).get('ann'), { username: 'annie', lastSeenAt: T0 + 100 }, 'a profile change is not a visit');
      await store.recordSeen('ann', { at: T0 + 300, username: null });
      assert.deepEqual((await store.userDetails(['ann'])).get('ann'), { username: 'annie', lastSeenAt: T0 + 300 }, 'without an account, the recorded username stays');
      await store.recordSeen('ghost', { at: T0, username: 'ghost' });
      assert.deepEqual(await store.userDetails(['ghost']), new Map(), 'nothing for a user without a profile');
      assert.deepEqual(await store.userDetails([]), new Map());
    }));

    it('moves member versions of the rooms of a user whose username changes', run(async ({ store }) => {
      await seedUsers(store, ann);
      await store.createRoom({ name: 'lobby', topic: '', createdBy: '', createdAt: T0 });
      await store.joinRoom('lobby', 'ann', T0);
      const before = await store.membersVersion('lobby');
      await store.recordSeen('ann', { at: T0 + 1, username: null });
      assert.equal(await store.membersVersion('lobby'), before, 'last seen alone leaves the list as it was');
      await store.recordSeen('ann', { at: T0 + 2, username: 'ann' });
      assert.ok((await store.membersVersion('lobby')) > before, 'a new username moves it');
    }));

    it('searches the directory by word prefixes of names and usernames, ignoring case and accents, by name then id', run(async ({ store }) => {
      await seedUsers(store, ann, bob, cid, dee, { id: 'bob2', name: 'bob', color: '#000000' });
      await store.recordSeen('cid', { at: T0, username: 'the_cidster' });
      assert.deepEqual(await found(store, ''), ['ann', 'bob', 'bob2', 'cid', 'dee'], 'everyone, by lower-cased name then id');
      assert.deepEqual(await found(store, 'LEE'), ['ann'], 'a later word of the name');
      assert.deepEqual(await found(store, 'an le'), ['ann'], 'every query word must match');
      assert.deepEqual(await found(store, 'ee'), [], 'only word starts');
      assert.deepEqual(await found(store, 'marie'), ['dee'], 'after a hyphen');
      assert.deepEqual(await found(store, 'dee'), ['dee'], 'accents ignored');
      assert.deepEqual(await found(store, 'cidster'), ['cid'], 'a username word');
      assert.deepEqual(await found(store, 'the_cid'), ['cid'], 'a username as typed');
      assert.deepEqual(await found(store, "%' OR 1=1 --"), [], 'pattern and SQL characters are only text');
      const entries = await store.searchUsers({ words: [], limit: 2, guestsSeenSince: 0 });
      assert.deepEqual(entries.map((e) => e.user), [ann, bob]);
      assert.deepEqual(await found(store, '', { after: entries[1]!.key }), ['bob2', 'cid', 'dee'], 'the next page after a key');
      const [cidEntry] = await store.searchUsers({ words: ['cid'], limit: 5, guestsSeenSince: 0 });
      assert.deepEqual(cidEntry && { user: cidEntry.user, username: cidEntry.username }, { user: { ...cid, username: 'the_cidster' }, username: 'the_cidster' });
    }));

    it('leaves out of the directory guests without an account not seen since the given time', run(async ({ store }) => {
      const oldGuest = { id: 'g_old', name: 'Old Guest', color: '#000000' };
      const newGuest = { id: 'g_new', name: 'New Guest', color: '#000000' };
      const claimed = { id: 'g_claimed', name: 'Claimed Guest', color: '#000000' };
      await seedUsers(store, oldGuest, newGuest, claimed, bob);
      await store.recordSeen('g_new', { at: T0 + 40 * DAY, username: null });
      await store.recordSeen('g_claimed', { at: T0, username: 'claimed' });
      assert.deepEqual(await found(store, 'guest', { guestsSeenSince: T0 + 30 * DAY }), ['g_claimed', 'g_new']);
      assert.deepEqual(await found(store, '', { guestsSeenSince: T0 + 30 * DAY }), ['bob', 'g_claimed', 'g_new'], 'accounts and non-guests stay');
      assert.deepEqual(await found(store, 'guest'), ['g_claimed', 'g_new', 'g_old'], '0 keeps every guest');
    }));

    it('expires unseen guests from every room, idempotently, keeping their messages, DMs and profiles', run(async ({ store }) => {
      const oldGuest = { id: 'g_old', name: 'Old Guest', color: '#000000' };
      const newGuest = { id: 'g_new', name: 'New Guest', color: '#000000' };
      const claimed = { id: 'g_claimed', name: 'Claimed', color: '#000000' };
      await seedUsers(store, oldGuest, newGuest, claimed, bob);
      for (const room of ['lobby', 'attic', 'quiet']) await store.createRoom({ name: room, topic: '', createdBy: '', createdAt: T0 });
      for (const id of ['g_old', 'g_new', 'g_claimed', 'bob']) await store.joinRoom('lobby', id, T0);
      await store.joinRoom('attic', 'g_old', T0);
      await store.joinRoom('quiet', 'bob', T0);
      await store.openDm('g_old', 'bob', T0);
      await store.addMessage({ channel: 'room:lobby', author: oldGuest, text: 'I was here', createdAt: T0 });
      await store.recordSeen('g_new', { at: T0 + 40 * DAY, username: null });
      await store.recordSeen('g_claimed', { at: T0, username: 'claimed' });
      const versions = await Promise.all(['lobby', 'attic', 'quiet'].map((room) => store.membersVersion(room)));

      const rooms = await store.expireGuests(T0 + 30 * DAY);
      assert.deepEqual([...rooms].sort(), ['attic', 'lobby']);
      assert.deepEqual((await store.roomMembers('lobby')).map((u) => u.id).sort(), ['bob', 'g_claimed', 'g_new']);
      assert.deepEqual(await store.roomMembers('attic'), []);
      const after = await Promise.all(['lobby', 'attic', 'quiet'].map((room) => store.membersVersion(room)));
      assert.ok(after[0]! > versions[0]! && after[1]! > versions[1]!, 'versions of changed rooms moved');
      assert.equal(after[2], versions[2], 'an untouched room keeps its version');

      assert.deepEqual(await store.expireGuests(T0 + 30 * DAY), [], 'idempotent');
      assert.deepEqual((await store.history('room:lobby', { limit: 5 })).messages.map((m) => m.text), ['I was here']);
      assert.deepEqual(await store.getUser('g_old'), oldGuest);
      assert.equal((await store.getDm('dm:bob,g_old'))?.users.length, 2);
    }));
  });
}
