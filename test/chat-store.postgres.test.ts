import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemberDirectory } from '../src/chat/member-directory.js';
import { CHAT_SCHEMA } from '../src/chat/postgres-chat-schema.js';
import { PostgresChatStore } from '../src/chat/postgres-chat-store.js';
import { searchLexemes, tsqueryText } from '../src/chat/postgres-search.js';
import type { ChatUser } from '../src/chat/protocol.js';
import { migrate, STREAM_SCHEMA } from '../src/store/postgres-migrations.js';
import { runChatStoreContract, type ChatStoreFixture } from './contracts/chat-store-contract.js';
import { assertMigratedPeople, runChatStorePeopleContract } from './contracts/chat-store-people-contract.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';

// One database for this run; every fixture gets its own schema in it.
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

const fixture = async (): Promise<ChatStoreFixture> => {
  // A new client as well as a new store: nothing in either survives but what the database holds.
  const stores = await db.storesOnFreshSchema((sql) => new PostgresChatStore({ sql }));
  return { store: stores.open(), reopen: async () => stores.open(), cleanup: stores.cleanup };
};
runChatStoreContract('PostgresChatStore', fixture);
runChatStorePeopleContract('PostgresChatStore', fixture);

const T0 = 1_700_000_000_000;
const ann: ChatUser = { id: 'ann', name: 'Ann', color: '#e03131' };
const bob: ChatUser = { id: 'bob', name: 'Bob', color: '#1c7ed6' };

/** Two opened stores ("nodes") on one fresh schema; closed and their clients ended after `fn`. */
async function withTwoNodes(fn: (a: PostgresChatStore, b: PostgresChatStore) => Promise<void>): Promise<void> {
  const schema = await db.createSchema();
  const clients = [db.client(schema), db.client(schema)];
  const [a, b] = clients.map((sql) => new PostgresChatStore({ sql })) as [PostgresChatStore, PostgresChatStore];
  try {
    await Promise.all([a.open(), b.open()]);
    await fn(a, b);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await Promise.all(clients.map((sql) => db.end(sql)));
  }
}

describe('PostgresChatStore migrations', () => {
  it('two stores opening one fresh database at once create the chat schema once, beside the stream schema', async () => {
    const fresh = await createTestDatabase();
    try {
      const nodes = Array.from({ length: 4 }, () => fresh.client());
      await Promise.all(nodes.map((sql, i): Promise<unknown> => (i % 2 === 0 ? new PostgresChatStore({ sql }).open() : migrate(sql, [STREAM_SCHEMA, CHAT_SCHEMA]))));
      const sql = nodes[0]!;
      const versions = await sql<{ component: string; version: number }[]>`
        SELECT component, version FROM schema_migrations ORDER BY component, version`;
      assert.deepEqual(versions.map((r) => [r.component, r.version]), [
        ...CHAT_SCHEMA.migrations.map((m) => ['chat', m.version]),
        ...STREAM_SCHEMA.migrations.map((m) => ['stream', m.version]),
      ]);
      const store = new PostgresChatStore({ sql: nodes[1]! });
      await store.open();
      await store.upsertUser(ann, T0);
      assert.deepEqual(await store.getUser('ann'), ann, 'the schema works');
      await store.close();
      assert.equal(await migrate(nodes[2]!, [STREAM_SCHEMA, CHAT_SCHEMA]), 0, 'nothing left to apply');
    } finally {
      await fresh.drop();
    }
  });

  it('moves the 1:1 DMs and profiles of a version 1 schema into the group-DM and people schema', async () => {
    const sql = db.client(await db.createSchema());
    try {
      await migrate(sql, [{ ...CHAT_SCHEMA, migrations: CHAT_SCHEMA.migrations.slice(0, 1) }]);
      await sql`INSERT INTO chat_users (id, name, color, created_at, updated_at) VALUES ('ann', 'Ann-Marie Lée', '#000000', 1, 5), ('bob', 'Bob', '#000000', 1, 6)`;
      await sql`INSERT INTO chat_dms (channel, user_a, user_b, created_at) VALUES ('dm:ann,bob', 'ann', 'bob', 7)`;
      const store = new PostgresChatStore({ sql });
      await store.open();
      await assertMigratedPeople(store);
      await store.close();
    } finally {
      await db.end(sql);
    }
  });

  it('refuses a database whose chat schema is newer', async () => {
    const sql = db.client(await db.createSchema());
    try {
      await migrate(sql, [CHAT_SCHEMA]);
      await sql`INSERT INTO schema_migrations (component, version) VALUES ('chat', 99)`;
      await assert.rejects(new PostgresChatStore({ sql }).open(), /chat schema version 99 is newer/);
    } finally {
      await db.end(sql);
    }
  });
});

describe('PostgresChatStore on several nodes', () => {
  it('two nodes adding to one channel at once get dense seqs 1..N, each in its own call order', () =>
    withTwoNodes(async (a, b) => {
      const perNode = 150;
      const results = await Promise.all(
        [a, b].map((store, n) =>
          Promise.all(
            Array.from({ length: perNode }, (_, i) => store.addMessage({ channel: 'room:busy', author: n ? bob : ann, text: `${n}:${i}`, createdAt: T0 + i })),
          ),
        ),
      );
      for (const added of results) {
        const seqs = added.map((r) => r.message.seq);
        assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), "a node's seqs follow its call order");
      }
      const all = results.flat().map((r) => r.message.seq).sort((x, y) => x - y);
      assert.deepEqual(all, Array.from({ length: 2 * perNode }, (_, i) => i + 1), 'dense, no duplicates');
      const page = await a.history('room:busy', { limit: 2 * perNode });
      const acked = new Map(results.flat().map((r) => [r.message.seq, r.message.text]));
      assert.ok(page.messages.every((m) => acked.get(m.seq) === m.text), 'each seq holds what was acknowledged for it');
    }));

  it('two nodes adding with one nonce at once store one message and consume one seq', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < 10; round++) {
        const nonce = `n${round}`;
        // Different channels too: the unique index, not the channel lock, decides.
        const [x, y] = await Promise.all([
          a.addMessage({ channel: 'room:one', author: ann, text: 'hi', createdAt: T0, nonce }),
          b.addMessage({ channel: round % 2 ? 'room:one' : 'room:two', author: ann, text: 'hi', createdAt: T0, nonce }),
        ]);
        assert.equal([x.created, y.created].filter(Boolean).length, 1, `round ${round}: one created`);
        assert.equal(x.message.id, y.message.id);
      }
      const seqs = async (channel: string) => (await a.history(channel, { limit: 100 })).messages.map((m) => m.seq);
      const one = await seqs('room:one');
      const two = await seqs('room:two');
      assert.equal(one.length + two.length, 10);
      assert.deepEqual(one, one.map((_, i) => i + 1), 'no seq lost to a refused duplicate');
      assert.deepEqual(two, two.map((_, i) => i + 1));
      assert.equal((await a.addMessage({ channel: 'room:one', author: bob, text: 'next', createdAt: T0 })).message.seq, one.length + 1);
    }));

  it('writes of two nodes that lock the same rows in opposite orders all take effect (a lost deadlock is run again)', () =>
    withTwoNodes(async (a, b) => {
      const [m1, m2] = [await a.addMessage({ channel: 'room:x', author: ann, text: 'one', createdAt: T0 }), await a.addMessage({ channel: 'room:x', author: ann, text: 'two', createdAt: T0 })].map((r) => r.message.id) as [string, string];
      const rounds = 3;
      for (let round = 0; round < rounds; round++) {
        // Each node's pair commits in one batch: a locks m1 then m2, b locks m2 then m1.
        const results = await Promise.all([
          a.toggleReaction('room:x', m1, 'a', '👍'),
          a.toggleReaction('room:x', m2, 'a', '👍'),
          b.toggleReaction('room:x', m2, 'b', '👍'),
          b.toggleReaction('room:x', m1, 'b', '👍'),
        ]);
        assert.ok(results.every((r) => r.ok), `round ${round}`);
      }
      for (const id of [m1, m2]) {
        const users = (await a.getMessage('room:x', id))!.reactions['👍'] ?? [];
        assert.deepEqual([...users].sort(), ['a', 'b'], 'an odd number of toggles each: both reacted');
      }
    }));

  it('two nodes opening one group at once create it once; two sweeps at once expire a guest once', () =>
    withTwoNodes(async (a, b) => {
      const cid: ChatUser = { id: 'g_cid', name: 'Cid', color: '#2b8a3e' };
      for (const user of [ann, bob, cid]) await a.upsertUser(user, T0);
      const opened = await Promise.all([a.openGroup(['ann', 'bob', 'g_cid'], T0), b.openGroup(['g_cid', 'bob', 'ann'], T0 + 1)]);
      assert.equal(opened.filter((o) => o?.created).length, 1, 'one node created it');
      assert.deepEqual(opened[0]?.dm, opened[1]?.dm, 'both answer the same DM');
      assert.deepEqual((await b.getDm('dm:ann,bob,g_cid'))?.users, ['ann', 'bob', 'g_cid']);

      await a.createRoom({ name: 'lobby', topic: '', createdBy: '', createdAt: T0 });
      await a.joinRoom('lobby', 'g_cid', T0);
      await a.joinRoom('lobby', 'ann', T0);
      const swept = await Promise.all([a.expireGuests(T0 + 10), b.expireGuests(T0 + 10)]);
      assert.deepEqual(swept.flat(), ['lobby'], 'one sweep removed the guest, the other found nothing to do');
      assert.deepEqual((await b.roomMembers('lobby')).map((u) => u.id), ['ann']);
    }));

  it("a member directory sees joins, leaves and profile changes made by another node's store", () =>
    withTwoNodes(async (a, b) => {
      const directory = new MemberDirectory(a);
      await a.upsertUser(ann, T0);
      await a.createRoom({ name: 'lobby', topic: '', createdBy: '', createdAt: T0 });
      await a.joinRoom('lobby', 'ann', T0);
      const names = async () => (await directory.list('lobby')).page({ query: '', after: undefined, limit: 10 }, { has: () => false }).members.map((m) => m.name);
      assert.deepEqual(await names(), ['Ann']);
      const cached = await directory.list('lobby');
      assert.equal(await directory.list('lobby'), cached, 'served from memory while nothing changed');

      await b.upsertUser(bob, T0);
      await b.joinRoom('lobby', 'bob', T0 + 1);
      assert.deepEqual(await names(), ['Ann', 'Bob'], 'a join on the other node');
      await b.upsertUser({ ...ann, name: 'Zoe' }, T0 + 2);
      assert.deepEqual(await names(), ['Bob', 'Zoe'], "a member's new name on the other node");
      await b.leaveRoom('lobby', 'bob');
      assert.deepEqual(await names(), ['Zoe'], 'a leave on the other node');
    }));
});

describe('PostgreSQL search text', () => {
  it('indexes folded distinct words and queries quoted prefixes, never syntax', () => {
    assert.deepEqual(searchLexemes('Café CAFE, cafe\u0301 déjà-vu 東京'), ['cafe', 'deja', 'vu', '東京']);
    assert.equal(tsqueryText('Hello wor'), "'hello':* & 'wor':*");
    assert.equal(tsqueryText("'; DROP TABLE x; -- & | ! :*"), "'drop':* & 'table':* & 'x':*");
    assert.equal(tsqueryText('  ()"*: '), undefined);
  });
});
