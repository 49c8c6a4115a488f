/**
 * `chat.members` pages through real SDK clients: online members first, then
 * offline ones, each by name; cursors that walk the whole list exactly once;
 * word-prefix search on names and ids with counts of the matches; joins,
 * leaves and renames reflected at once; malformed requests refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Member, MembersPage } from '../src/chat/protocol.js';
import { assertRpcError, connectChat, guestClient, type ChatClient } from './helpers/chat.js';
import { disconnectAll, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** Room members in this test: a few names to search for, and numbered ones to fill pages. */
const NAMED = ['Ann Lee', 'Joanne Annis', 'annabel', 'Bob Stone', 'Zoë Ång'];
const NUMBERED = 125;

function byName(a: { name: string; id: string }, b: { name: string; id: string }): number {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

async function userClient(ts: TestServer, id: string, name: string): Promise<ChatClient> {
  return connectChat(ts.wsUrl, await mintToken({ sub: id, info: { name } }));
}

/** Every page of a member list, following cursors. */
async function allPages(client: ChatClient, channel: string, query?: string, limit?: number): Promise<MembersPage[]> {
  const pages: MembersPage[] = [];
  let cursor: string | undefined;
  do {
    const request = { channel, ...(query === undefined ? {} : { query }), ...(limit === undefined ? {} : { limit }), ...(cursor ? { cursor } : {}) };
    const page = await client.rpc('chat.members', request);
    pages.push(page);
    cursor = page.cursor;
    assert.ok(pages.length < 100, 'the cursors end');
  } while (cursor);
  return pages;
}

describe('chat: member pages', () => {
  let ts: TestServer;
  let owner: ChatClient;
  const users: { id: string; name: string }[] = [];
  const online = new Set<string>();

  before(async () => {
    ts = await startTestServer();
    owner = await userClient(ts, 'owner', 'Owner');
    await owner.rpc('chat.createRoom', { name: 'crowd' });
    users.push({ id: 'owner', name: 'Owner' });
    const people = [
      ...NAMED.map((name, i) => ({ id: `n${i}`, name })),
      ...Array.from({ length: NUMBERED }, (_, i) => ({ id: `u${String(i).padStart(3, '0')}`, name: `Member ${String(i).padStart(3, '0')}` })),
    ];
    // Every third person stays connected and subscribed: they are online.
    await Promise.all(
      people.map(async (person, i) => {
        const client = await userClient(ts, person.id, person.name);
        await client.rpc('chat.joinRoom', { name: 'crowd' });
        users.push(person);
        if (i % 3 === 0) {
          await subscribe(client.client, 'room:crowd');
          online.add(person.id);
        } else {
          client.client.disconnect();
        }
      }),
    );
    await waitFor(async () => (await owner.rpc('chat.members', { channel: 'room:crowd', limit: 1 })).online === online.size, {
      message: 'everyone subscribed is online',
    });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('pages walk every member once: online ones first, then offline ones, each by name', async () => {
    const pages = await allPages(owner, 'room:crowd', undefined, 40);
    const expected = [
      ...users.filter((u) => online.has(u.id)).sort(byName),
      ...users.filter((u) => !online.has(u.id)).sort(byName),
    ].map((u) => [u.id, u.name, online.has(u.id)]);
    const seen = pages.flatMap((page) => page.members).map((m: Member) => [m.id, m.name, m.online]);
    assert.deepEqual(seen, expected);
    assert.deepEqual(pages.map((p) => p.members.length), [40, 40, 40, 11]);
    for (const page of pages) {
      assert.equal(page.total, users.length);
      assert.equal(page.online, online.size);
      assert.equal(page.live, true, 'a room this small gets join and leave events');
    }
    assert.equal(pages.at(-1)?.cursor, undefined, 'no cursor on the last page');
    const first = await owner.rpc('chat.members', { channel: 'room:crowd' });
    assert.equal(first.members.length, 50, 'default page size');
    assert.equal(typeof first.members[0]?.color, 'string');
  });

  test('search matches the start of any word of a name or id, ignoring case, and counts the matches', async () => {
    const names = async (query: string) => (await allPages(owner, 'room:crowd', query)).flatMap((p) => p.members.map((m) => m.name));
    assert.deepEqual((await names('ANN')).sort(), ['Ann Lee', 'Joanne Annis', 'annabel'].sort());
    assert.deepEqual(await names('lee'), ['Ann Lee']);
    assert.deepEqual(await names('zoë'), ['Zoë Ång']);
    assert.deepEqual(await names('ång'), ['Zoë Ång']);
    assert.deepEqual(await names('oanne'), [], 'the middle of a word does not match');
    assert.equal((await names('member 01')).length, 10, 'a query may span words');
    assert.deepEqual((await names('u12')).sort(), ['Member 120', 'Member 121', 'Member 122', 'Member 123', 'Member 124'], 'ids match too');
    const page = await owner.rpc('chat.members', { channel: 'room:crowd', query: 'member', limit: 5 });
    assert.equal(page.total, NUMBERED);
    assert.equal(page.online, users.filter((u) => u.name.startsWith('Member') && online.has(u.id)).length);
    assert.equal(page.members.length, 5);
    assert.ok(page.cursor);
    const blank = await owner.rpc('chat.members', { channel: 'room:crowd', query: '   ', limit: 1 });
    assert.equal(blank.total, users.length, 'a blank query matches everyone');
    const none = await owner.rpc('chat.members', { channel: 'room:crowd', query: 'nobody-has-this' });
    assert.deepEqual([none.members, none.total, none.online, none.cursor], [[], 0, 0, undefined]);
  });

  test('joins, leaves and renames show on the next page read', async () => {
    const newcomer = await userClient(ts, 'a-newcomer', 'Aaron Newcomer');
    await newcomer.rpc('chat.joinRoom', { name: 'crowd' });
    const firstOffline = async () => (await owner.rpc('chat.members', { channel: 'room:crowd', query: 'aaron' })).members;
    assert.deepEqual((await firstOffline()).map((m) => [m.id, m.online]), [['a-newcomer', false]]);
    await subscribe(newcomer.client, 'room:crowd');
    await waitFor(async () => (await firstOffline())[0]?.online === true, { message: 'the newcomer online' });

    const renamed = await userClient(ts, 'a-newcomer', 'Zed Renamed');
    await renamed.rpc('chat.bootstrap', {});
    assert.deepEqual(await firstOffline(), [], 'the old name no longer matches');
    const last = (await allPages(owner, 'room:crowd', undefined, 100)).flatMap((p) => p.members);
    assert.equal(last.filter((m) => m.id === 'a-newcomer').length, 1, 'listed once, under the new name');
    assert.equal(last.find((m) => m.id === 'a-newcomer')?.name, 'Zed Renamed');

    await renamed.rpc('chat.leaveRoom', { name: 'crowd' });
    const after = (await allPages(owner, 'room:crowd', undefined, 100)).flatMap((p) => p.members);
    assert.equal(after.some((m) => m.id === 'a-newcomer'), false, 'gone after leaving');
    assert.equal(after.length, users.length);
  });

  test('DM pages list both participants and are not live; bad requests are refused', async () => {
    const dee = await guestClient(ts, { name: 'Dee' });
    const eli = await guestClient(ts, { name: 'Eli' });
    await eli.rpc('chat.bootstrap', {});
    const { conversation } = await dee.rpc('chat.openDm', { user: eli.user.id });
    await subscribe(eli.client, conversation.channel);
    const page = await waitFor(async () => {
      const read = await dee.rpc('chat.members', { channel: conversation.channel });
      return read.online === 1 && read;
    }, { message: 'Eli online in the DM' });
    assert.deepEqual(page.members.map((m) => [m.name, m.online]), [['Eli', true], ['Dee', false]]);
    assert.deepEqual([page.total, page.live, page.cursor], [2, false, undefined]);

    await assertRpcError(owner.rpc('chat.members', { channel: 'room:crowd', cursor: 'not-a-cursor' }), 107, /cursor/);
    await assertRpcError(owner.rpc('chat.members', { channel: 'room:crowd', limit: 0 }), 107, /limit/);
    await assertRpcError(owner.rpc('chat.members', { channel: 'room:crowd', query: 'x'.repeat(201) }), 107, /longer than/);
    await assertRpcError(owner.rpc('chat.members', { channel: 'room:crowd', query: 5 as unknown as string }), 107, /query must be a string/);
    const capped = await owner.rpc('chat.members', { channel: 'room:crowd', limit: 1000 });
    assert.equal(capped.members.length, 100, 'pages hold at most 100');
  });
});
