/**
 * Group DMs, the people directory and member lists that stay true, through
 * the real SDK: a group of three talks while a fourth user is refused at
 * the protocol level; `chat.users` finds people by name and username and
 * leaves out deactivated accounts; member lists show usernames, guests and
 * deactivated accounts; guests who do not come back leave member lists.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../src/accounts/sqlite-account-store.js';
import { ACCOUNT_FACT_TTL_MS } from '../src/chat/account-facts.js';
import type { DirectoryUser, Member } from '../src/chat/protocol.js';
import { assertRpcError, connectChat, guestClient, joinUsers, waitForEvent, waitForUserEvent, type ChatClient } from './helpers/chat.js';
import { disconnectAll, rejection, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

async function userClient(ts: TestServer, id: string, name: string): Promise<ChatClient> {
  return connectChat(ts.wsUrl, await mintToken({ sub: id, info: { name } }));
}

/** The account store of a test server's data dir, opened beside the server's (as another process would). */
async function accountsOf(ts: TestServer): Promise<SqliteAccountStore> {
  const accounts = new SqliteAccountStore({ path: join(ts.dataDir, ACCOUNTS_DB_FILE) });
  await accounts.open();
  return accounts;
}

async function createAccount(accounts: SqliteAccountStore, id: string, username: string, displayName: string): Promise<void> {
  const created = await accounts.createAccount({ id, username, displayName, passwordHash: 'not-used-here', now: Date.now() });
  assert.equal(created.ok, true, `account ${username} created`);
}

describe('chat: group DMs', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('a group of three talks; everyone in it is told; a fourth user is refused on subscribe, history and send', async () => {
    const [ann, bob, cid, dan] = await Promise.all(['Ann', 'Bob', 'Cid', 'Dan'].map((name) => guestClient(ts, { name })));
    for (const client of [ann!, bob!, cid!, dan!]) await client.rpc('chat.bootstrap', {});
    const inboxes = await Promise.all([ann!, bob!, cid!].map((c) => subscribe(c.client, `user:${c.user.id}`)));
    const ids = [ann!, bob!, cid!].map((c) => c.user.id).sort();
    const channel = `dm:${ids.join(',')}`;

    const { conversation } = await ann!.rpc('chat.openGroup', { users: [cid!.user.id, bob!.user.id] });
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    const annPeers = [bob!.user, cid!.user].sort(byId);
    assert.deepEqual(conversation, {
      channel,
      kind: 'dm',
      title: 'Bob, Cid',
      peers: annPeers,
      lastSeq: 0,
      lastReadSeq: 0,
      unread: 0,
    });
    for (const [i, client] of [ann!, bob!, cid!].entries()) {
      const told = await waitForUserEvent(inboxes[i]!, (e) => e.type === 'conversation' && e.conversation.channel === channel, `${client.user.name} is told`);
      assert.ok(told.type === 'conversation');
      const others = [ann!, bob!, cid!].filter((c) => c !== client).map((c) => c.user).sort(byId);
      assert.deepEqual(told.conversation.peers, others, `${client.user.name} sees the two others`);
      assert.equal(told.conversation.peer, undefined, 'no single peer in a group');
    }
    const again = await cid!.rpc('chat.openGroup', { users: [ann!.user.id, bob!.user.id, cid!.user.id] });
    assert.equal(again.conversation.channel, channel, 'the same group from anyone, listing themselves or not');

    const subs = await Promise.all([bob!, cid!].map((c) => subscribe(c.client, channel)));
    const sent = await ann!.rpc('chat.send', { channel, text: 'hello, both of you' });
    for (const sub of subs) await waitForEvent(sub, (e) => e.type === 'message' && e.message.id === sent.message.id, 'delivered live');
    await bob!.rpc('chat.send', { channel, text: 'hi Ann' });
    await cid!.rpc('chat.send', { channel, text: 'hey' });
    for (const client of [ann!, bob!, cid!]) {
      const { messages } = await client.rpc('chat.history', { channel });
      assert.deepEqual(messages.map((m) => m.text), ['hello, both of you', 'hi Ann', 'hey']);
    }
    const members = (await bob!.rpc('chat.members', { channel })).members;
    assert.deepEqual(members.map((m) => m.id).sort(), ids, 'the members of a group are its people');

    await assertRpcError(dan!.rpc('chat.history', { channel }), 103);
    await assertRpcError(dan!.rpc('chat.send', { channel, text: 'let me in' }), 103);
    await assertRpcError(dan!.rpc('chat.members', { channel }), 103);
    assert.equal((await rejection(subscribe(dan!.client, channel))).code, 103);
    assert.ok(!(await dan!.rpc('chat.bootstrap', {})).conversations.some((c) => c.channel === channel));
    assert.equal((await ann!.rpc('chat.history', { channel })).messages.length, 3, 'nothing added by the refused send');
    const search = await dan!.rpc('chat.search', { query: 'hello' });
    assert.ok(!search.messages.some((m) => m.channel === channel), 'search finds nothing in a group one is not in');
    assert.ok((await cid!.rpc('chat.search', { query: 'hello both' })).messages.some((m) => m.channel === channel));
  });

  test('refuses groups that are too small or too big, unknown people and deactivated accounts', async () => {
    const accounts = await accountsOf(ts);
    try {
      await createAccount(accounts, 'admin-1', 'admin', 'Admin');
      const people = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'];
      for (const id of people) await (await userClient(ts, id, `Person ${id}`)).rpc('chat.bootstrap', {});
      const me = await userClient(ts, 'p0', 'Person p0');
      await assertRpcError(me.rpc('chat.openGroup', { users: ['p1'] }), 107, /2 to 7 other people/);
      await assertRpcError(me.rpc('chat.openGroup', { users: ['p1', 'p0'] }), 107, /2 to 7 other people/);
      await assertRpcError(me.rpc('chat.openGroup', { users: people }), 107, /2 to 7 other people/);
      await assertRpcError(me.rpc('chat.openGroup', { users: ['p1', 42] as unknown as string[] }), 107, /users must be an array of strings/);
      await assertRpcError(me.rpc('chat.openGroup', { users: ['p1', 'nobody'] }), 107, /no user "nobody"/);
      const eight = await me.rpc('chat.openGroup', { users: people.slice(0, 7) });
      assert.equal(eight.conversation.peers?.length, 7, 'eight people in all');

      await createAccount(accounts, 'p8', 'person8', 'Person p8');
      assert.equal(await accounts.setDeactivated('p8', true, Date.now()), 'changed');
      await assertRpcError(me.rpc('chat.openGroup', { users: ['p1', 'p8'] }), 107, /deactivated/);
      await assertRpcError(me.rpc('chat.openDm', { user: 'p8' }), 107, /deactivated/);
    } finally {
      await accounts.close();
    }
  });
});

describe('chat: people directory and member lists', () => {
  let ts: TestServer;
  let accounts: SqliteAccountStore;
  before(async () => {
    ts = await startTestServer();
    accounts = await accountsOf(ts);
    await createAccount(accounts, 'acc-admin', 'boss', 'The Boss');
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await accounts?.close();
    await ts?.stop();
  });

  test('chat.users finds people by name and username, pages, and leaves out the caller and deactivated accounts', async () => {
    await createAccount(accounts, 'acc-zoe', 'zoe.k', 'Zoë Kovač');
    await createAccount(accounts, 'acc-zed', 'zed', 'Zed Zimmer');
    const zoe = await userClient(ts, 'acc-zoe', 'Zoë Kovač');
    const zed = await userClient(ts, 'acc-zed', 'Zed Zimmer');
    const guest = await guestClient(ts, { name: 'Zara Guest' });
    const [zoeUser] = await Promise.all([zoe, zed, guest].map(async (client) => (await client.rpc('chat.bootstrap', {})).user));

    const me = await userClient(ts, 'acc-admin', 'The Boss');
    await me.rpc('chat.bootstrap', {});
    const find = async (query: string, client: ChatClient = me): Promise<DirectoryUser[]> => (await client.rpc('chat.users', { query })).users;
    assert.deepEqual(await find('zoe'), [{ id: 'acc-zoe', name: 'Zoë Kovač', color: zoeUser!.color, username: 'zoe.k' }]);
    assert.deepEqual((await find('kova')).map((u) => u.id), ['acc-zoe'], 'a later word, accents ignored');
    assert.deepEqual((await find('Z')).map((u) => u.id), [guest.user.id, 'acc-zed', 'acc-zoe'], 'by name: Zara, Zed, Zoë');
    assert.deepEqual((await find('zara')).map((u) => u.guest), [true], 'guests are marked');
    assert.deepEqual(await find('boss'), [], 'not the caller');
    assert.deepEqual((await find('boss', zed)).map((u) => [u.id, u.username]), [['acc-admin', 'boss']], 'found by username');

    const first = await me.rpc('chat.users', { query: 'z', limit: 2 });
    assert.equal(first.users.length, 2);
    assert.ok(first.cursor);
    const second = await me.rpc('chat.users', { query: 'z', limit: 2, cursor: first.cursor });
    assert.deepEqual([...first.users, ...second.users].map((u) => u.id), [guest.user.id, 'acc-zed', 'acc-zoe']);
    await assertRpcError(me.rpc('chat.users', { cursor: 'garbage' }), 107, /cursor/);
    await assertRpcError(me.rpc('chat.users', { limit: 0 }), 107, /limit/);
    assert.equal((await me.rpc('chat.users', { limit: 500 })).users.length <= 50, true, 'a page is bounded');

    assert.equal(await accounts.setDeactivated('acc-zed', true, Date.now()), 'changed');
    // Account facts seen before are trusted for ACCOUNT_FACT_TTL_MS: the deactivation shows within that time.
    const offered = await waitFor(async () => {
      const ids = (await find('z')).map((u) => u.id);
      return !ids.includes('acc-zed') && ids;
    }, { message: 'the deactivated account is no longer offered', timeoutMs: ACCOUNT_FACT_TTL_MS + 5000, intervalMs: 500 });
    assert.deepEqual(offered, [guest.user.id, 'acc-zoe']);
  });

  test('member lists show usernames, guests, online people first and deactivated accounts last, never online', async () => {
    await createAccount(accounts, 'acc-dee', 'dee', 'Dee Active');
    await createAccount(accounts, 'acc-eve', 'eve', 'Eve Gone');
    const dee = await userClient(ts, 'acc-dee', 'Dee Active');
    const eve = await userClient(ts, 'acc-eve', 'Eve Gone');
    const guest = await guestClient(ts, { name: 'Gus Guest' });
    const owner = await userClient(ts, 'owner', 'Owner');
    await owner.rpc('chat.createRoom', { name: 'team' });
    for (const client of [dee, eve, guest]) await client.rpc('chat.joinRoom', { name: 'team' });
    await subscribe(dee.client, 'room:team');
    await subscribe(eve.client, 'room:team');
    assert.equal(await accounts.setDeactivated('acc-eve', true, Date.now()), 'changed');

    const page = await waitFor(async () => {
      const read = await owner.rpc('chat.members', { channel: 'room:team' });
      return read.online === 1 && read;
    }, { message: 'Dee online, deactivated Eve not counted' });
    const shape = (m: Member) => [m.name, m.online, m.username ?? null, m.guest ?? false, m.deactivated ?? false];
    assert.deepEqual(page.members.map(shape), [
      ['Dee Active', true, 'dee', false, false],
      ['Gus Guest', false, null, true, false],
      ['Owner', false, null, false, false],
      ['Eve Gone', false, 'eve', false, true],
    ]);
    assert.deepEqual([page.total, page.online, page.deactivated], [4, 1, 1]);
    const second = await owner.rpc('chat.members', { channel: 'room:team', limit: 3 });
    const rest = await owner.rpc('chat.members', { channel: 'room:team', limit: 3, cursor: second.cursor! });
    assert.deepEqual(rest.members.map((m) => m.name), ['Eve Gone'], 'a cursor walks into the deactivated group');
    assert.deepEqual((await owner.rpc('chat.members', { channel: 'room:team', query: 'eve' })).members.map((m) => m.id), ['acc-eve'], 'found by username');
  });
});

describe('chat: guest expiry', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ flags: ['--guest-expiry', '1s'] });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('a guest who does not come back leaves a 40-member room list; their messages stay', async () => {
    const members = await joinUsers(ts, 40, { prefix: 'member', name: 'Member', online: 4 });
    const guest = await guestClient(ts, { name: 'Passing Guest' });
    await guest.rpc('chat.bootstrap', {});
    const { message } = await guest.rpc('chat.send', { channel: 'room:general', text: 'just passing through' });
    guest.client.disconnect();
    const reader = members.online[0]!;

    const list = await waitFor(async () => {
      const page = await reader.rpc('chat.members', { channel: 'room:general', limit: 100 });
      return !page.members.some((m) => m.id === guest.user.id) && page;
    }, { message: 'the guest left the member list', timeoutMs: 15_000 });
    assert.equal(list.total, 40, 'every member with an account-like id stays');
    assert.deepEqual(list.members.map((m) => m.id).sort(), members.ids);
    const { messages } = await reader.rpc('chat.history', { channel: 'room:general' });
    assert.ok(messages.some((m) => m.id === message.id && m.text === 'just passing through'), 'their message stays');
    assert.deepEqual((await reader.rpc('chat.users', { query: 'passing' })).users, [], 'and they leave the directory');
  });
});
