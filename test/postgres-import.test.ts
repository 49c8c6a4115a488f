/**
 * `parley migrate` and `parley import` as an operator runs them: a data dir
 * written by a real single-node server (SQLite) is copied into a fresh
 * PostgreSQL database, and the PostgreSQL stores then serve the same stream
 * positions, publications and chat.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { importDataDir } from '../src/admin/data-import.js';
import { PostgresChatStore } from '../src/chat/postgres-chat-store.js';
import { SqliteChatStore } from '../src/chat/sqlite-chat-store.js';
import type { ChatStore } from '../src/chat/chat-store.js';
import { PostgresStore } from '../src/store/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { HistoryPage, Store } from '../src/store/store.js';
import { guestClient } from './helpers/chat.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { disconnectAll } from './helpers/sdk.js';
import { startTestServer } from './helpers/server.js';

const databases: TestDatabase[] = [];
async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}
after(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

describe('parley migrate', () => {
  test('creates every schema once, says so, and needs a database URL', async () => {
    const db = await freshDatabase();
    const first = await runCli(['migrate', '--postgres-url', db.url]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied \d+ migration/);
    const second = await runCli(['migrate'], { env: { PARLEY_POSTGRES_URL: db.url } });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already up to date/);
    const sql = db.client();
    const components = await sql<{ component: string }[]>`SELECT DISTINCT component FROM schema_migrations ORDER BY component`;
    assert.deepEqual(components.map((r) => r.component), ['account', 'chat', 'import', 'stream']);
    const missing = await runCli(['migrate']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--postgres-url/);
    for (const run of [first, second]) assert.ok(!`${run.stdout}${run.stderr}`.includes(db.url), 'the URL is never printed');
  });
});

describe('parley import', () => {
  let dataDir: string;
  let annId: string;
  let bobId: string;
  let cidId: string;
  const group = () => `dm:${[annId, bobId, cidId].sort().join(',')}`;
  const dm = () => (annId < bobId ? `dm:${annId},${bobId}` : `dm:${bobId},${annId}`);

  before(async () => {
    const ts = await startTestServer();
    dataDir = ts.dataDir;
    const ann = await guestClient(ts, { name: 'Ann' });
    const bob = await guestClient(ts, { name: 'Bob' });
    const cid = await guestClient(ts, { name: 'Cid' });
    annId = ann.user.id;
    bobId = bob.user.id;
    cidId = cid.user.id;
    await ann.rpc('chat.bootstrap', {});
    await bob.rpc('chat.bootstrap', {});
    await cid.rpc('chat.bootstrap', {});
    const said = [];
    for (const text of ['hello moving day', 'café au lait', 'to be deleted', 'one more before the move']) {
      said.push((await ann.rpc('chat.send', { channel: 'room:general', text, nonce: `n-${said.length}` })).message);
    }
    await ann.rpc('chat.edit', { channel: 'room:general', id: said[0]!.id, text: 'hello moving day (edited)' });
    await ann.rpc('chat.delete', { channel: 'room:general', id: said[2]!.id });
    await bob.rpc('chat.react', { channel: 'room:general', id: said[1]!.id, emoji: '👍' });
    await bob.rpc('chat.react', { channel: 'room:general', id: said[1]!.id, emoji: '🎉' });
    await ann.rpc('chat.react', { channel: 'room:general', id: said[1]!.id, emoji: '👍' });
    await bob.rpc('chat.markRead', { channel: 'room:general', seq: 2 });
    await ann.rpc('chat.openDm', { user: bobId });
    await bob.rpc('chat.send', { channel: dm(), text: 'psst, the move' });
    // Moderation state: a private room with a muted member and a ban, and a message removed by a moderator.
    await cid.rpc('chat.bootstrap', {});
    await ann.rpc('chat.createRoom', { name: 'vault', private: true });
    await ann.rpc('chat.addMembers', { channel: 'room:vault', users: [bobId, cid.user.id] });
    await ann.rpc('chat.moderate', { channel: 'room:vault', action: 'mute', user: bobId });
    await ann.rpc('chat.moderate', { channel: 'room:vault', action: 'ban', user: cid.user.id });
    await ann.rpc('chat.createRoom', { name: 'yard' });
    await bob.rpc('chat.joinRoom', { name: 'yard' });
    const spam = (await bob.rpc('chat.send', { channel: 'room:yard', text: 'spam in the yard' })).message;
    await ann.rpc('chat.delete', { channel: 'room:yard', id: spam.id });
    await cid.rpc('chat.openGroup', { users: [annId, bobId] });
    await cid.rpc('chat.send', { channel: group(), text: 'three of us' });
    disconnectAll();
    await ts.server.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Every channel of the SQLite stream store. */
  function streamChannels(): string[] {
    const db = new Database(join(dataDir, 'parley.db'), { readonly: true });
    try {
      return db.prepare<[], string>('SELECT name FROM channels ORDER BY name').pluck().all();
    } finally {
      db.close();
    }
  }

  /** What clients see of the stream and the chat, from a pair of stores. */
  async function snapshot(store: Store, chat: ChatStore) {
    const streams = [];
    for (const channel of streamChannels()) streams.push([channel, await store.read(channel, { limit: -1 })]);
    const rooms = ['room:general', dm(), group()];
    return {
      streams,
      history: await Promise.all(rooms.map((channel) => chat.history(channel, { limit: 100 }))),
      search: await Promise.all(['cafe', 'HELLO edit', 'move', 'deleted'].map((q) => chat.search(q, { channels: rooms, limit: 10 }))),
      conversations: await Promise.all([annId, bobId, cidId].map((id) => chat.conversationsOf(id))),
      group: await chat.getDm(group()),
      details: await chat.userDetails([annId, bobId, cidId]),
      rooms: await chat.listRooms(bobId),
      allRooms: await chat.listRooms('nobody', { includePrivate: true }),
      vault: [await chat.roomAccess('vault', bobId), await chat.memberStandings('vault'), await chat.roomBans('vault')],
      yard: await chat.history('room:yard', { limit: 10 }),
      members: await chat.roomMembers('general'),
      users: await Promise.all([annId, bobId].map((id) => chat.getUser(id))),
    };
  }

  async function sqliteSnapshot() {
    const store = new SqliteStore({ path: join(dataDir, 'parley.db') });
    const chat = new SqliteChatStore({ path: join(dataDir, 'chat.db') });
    await store.open();
    await chat.open();
    try {
      return await snapshot(store, chat);
    } finally {
      await chat.close();
      await store.close();
    }
  }

  test('copies stream positions, publications and the chat; clients go on where they were', async () => {
    const expected = await sqliteSnapshot();
    assert.ok(expected.streams.length >= 3, 'room, DM and user channels have streams');
    assert.equal(expected.history[0]!.messages.length, 4);
    assert.deepEqual(expected.search.map((found) => found.length), [1, 1, 2, 0], 'the searches compared find something');
    assert.deepEqual(expected.allRooms.map((room) => [room.name, room.visibility]), [['general', 'public'], ['vault', 'private'], ['yard', 'public']]);
    assert.equal((expected.vault[2] as unknown[]).length, 1, 'the ban is compared');
    assert.equal(expected.yard.messages[0]?.removedByModerator, true);

    const db = await freshDatabase();
    const run = await runCli(['import', '--from', dataDir, '--postgres-url', db.url]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /imported .* into PostgreSQL/);
    assert.match(run.stdout, /^ {2}messages +7$/m);
    assert.match(run.stdout, /^ {2}room bans +1$/m);
    assert.match(run.stdout, /^ {2}people in direct conversations +5$/m);
    assert.equal(expected.group?.users.length, 3, 'the group DM is compared');
    assert.match(run.stdout, /^ {2}reactions +3$/m);
    assert.match(run.stdout, /^ {2}guest sessions +3$/m);
    assert.match(run.stdout, new RegExp(`^ {2}publications +${expected.streams.reduce((n, [, page]) => n + (page as HistoryPage).publications.length, 0)}$`, 'm'));
    assert.ok(!run.stdout.includes(db.url));

    const sql = db.client();
    const store = new PostgresStore({ sql });
    const chat = new PostgresChatStore({ sql });
    await store.open();
    await chat.open();
    try {
      assert.deepEqual(await snapshot(store, chat), expected);
      const general = expected.streams.find(([channel]) => channel === 'room:general')![1] as HistoryPage;
      const [appended] = await store.append('room:general', [{ data: '{"after":"the move"}' }], { size: 100, ttlMs: 0 });
      assert.deepEqual({ offset: appended!.offset, epoch: (await store.position('room:general')).epoch }, { offset: general.position.offset + 1, epoch: general.position.epoch });
      const next = await chat.addMessage({ channel: 'room:general', author: expected.users[0]!, text: 'after', createdAt: Date.now() });
      assert.equal(next.message.seq, 5, 'seqs go on');
      const retry = await chat.addMessage({ channel: 'room:general', author: expected.users[0]!, text: 'x', createdAt: Date.now(), nonce: 'n-1' });
      assert.equal(retry.created, false, 'nonces came along');
    } finally {
      await chat.close();
      await store.close();
    }

    const again = await runCli(['import', '--from', dataDir, '--postgres-url', db.url]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to do: .* was already imported/);
    const [count] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM chat_messages`;
    assert.equal(Number(count!.n), 8, 'the second import wrote nothing');
  });

  test('refuses a database that holds data, unless --force, which replaces it', async () => {
    const db = await freshDatabase();
    const sql = db.client();
    const chat = new PostgresChatStore({ sql });
    await chat.open();
    await chat.createRoom({ name: 'elsewhere', topic: '', createdBy: '', createdAt: 1 });
    await chat.close();

    const refused = await runCli(['import', '--from', dataDir, '--postgres-url', db.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /nothing imported: the database already holds Parley data \(1 in chat_rooms\); --force/);
    assert.equal((await sql<{ name: string }[]>`SELECT name FROM chat_rooms`).length, 1, 'untouched');

    const forced = await runCli(['import', '--from', dataDir, '--force', '--postgres-url', db.url]);
    assert.equal(forced.code, 0, forced.stderr);
    const rooms = await sql<{ name: string }[]>`SELECT name FROM chat_rooms ORDER BY name`;
    assert.deepEqual(rooms.map((r) => r.name), ['general', 'vault', 'yard']);
  });

  test('refuses a directory without Parley data', async () => {
    const db = await freshDatabase();
    const run = await runCli(['import', '--from', join(dataDir, 'nowhere'), '--postgres-url', db.url]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /holds no Parley data/);
  });
});

describe('importDataDir', () => {
  test('copies tables bigger than one INSERT, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-import-'));
    const db = await freshDatabase();
    const sql = db.client();
    try {
      const author = { id: 'ann', name: 'Ann', color: '#e03131' };
      const stream = new SqliteStore({ path: join(dir, 'parley.db') });
      const chat = new SqliteChatStore({ path: join(dir, 'chat.db') });
      await stream.open();
      await chat.open();
      await stream.append('big', Array.from({ length: 2500 }, (_, i) => ({ data: JSON.stringify({ i }) })), { size: 2400, ttlMs: 0 });
      await Promise.all(Array.from({ length: 1100 }, (_, i) => chat.addMessage({ channel: 'room:big', author, text: `word${i} common`, createdAt: i })));
      const expected = { position: await stream.position('big'), publications: (await stream.read('big', { limit: -1 })).publications };
      await chat.close();
      await stream.close();

      const result = await importDataDir(sql, { from: dir });
      assert.equal(result.status, 'imported');
      assert.equal(result.counts.publications, 2400, 'what the retention kept');
      assert.equal(result.counts.messages, 1100);
      const store = new PostgresStore({ sql });
      const pgChat = new PostgresChatStore({ sql });
      await store.open();
      await pgChat.open();
      try {
        const page = await store.read('big', { limit: -1 });
        assert.deepEqual({ position: page.position, publications: page.publications }, expected);
        const found = await pgChat.search('common', { channels: ['room:big'], limit: 3 });
        assert.deepEqual(found.map((m) => m.seq), [1100, 1099, 1098], 'newest first, across chunks');
        assert.deepEqual((await pgChat.search('word1050', { channels: ['room:big'], limit: 3 })).map((m) => m.seq), [1051]);
      } finally {
        await pgChat.close();
        await store.close();
      }
    } finally {
      await db.end(sql);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
