import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Sql } from 'postgres';
import type { Publication, PublishRequest } from '../src/protocol/types.js';
import { migrate, STREAM_SCHEMA } from '../src/store/postgres-migrations.js';
import { PostgresStore, type PostgresStoreOptions } from '../src/store/postgres-store.js';
import type { Retention } from '../src/store/store.js';
import { runStoreContract } from './contracts/store-contract.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { waitFor } from './helpers/wait.js';

const KEEP: Retention = { size: 100_000, ttlMs: 0 };
const msg = (n: number | string): PublishRequest => ({ data: JSON.stringify({ n }) });

// One database for this run; every fixture gets its own schema in it.
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

runStoreContract('PostgresStore', async () => {
  // A new client as well as a new store: nothing in either survives but what the database holds.
  const stores = await db.storesOnFreshSchema((sql) => new PostgresStore({ sql }));
  return { store: stores.open(), reopen: async () => stores.open(), cleanup: stores.cleanup };
});

/** Runs `fn` with an opened store in a fresh schema, then closes it and ends its client. */
async function withStore(options: Omit<PostgresStoreOptions, 'sql'>, fn: (store: PostgresStore, sql: Sql) => Promise<void>): Promise<void> {
  const sql = db.client(await db.createSchema());
  const store = new PostgresStore({ sql, ...options });
  await store.open();
  try {
    await fn(store, sql);
  } finally {
    try {
      await store.close();
    } finally {
      await db.end(sql);
    }
  }
}

describe('PostgreSQL migrations', () => {
  it('several nodes migrating one fresh database at once create the schema once and record each version once', async () => {
    const fresh = await createTestDatabase();
    try {
      const nodes = Array.from({ length: 6 }, () => fresh.client());
      await Promise.all(nodes.map((sql) => migrate(sql, [STREAM_SCHEMA])));
      const sql = nodes[0]!;
      const versions = await sql<{ component: string; version: number }[]>`SELECT component, version FROM schema_migrations ORDER BY version`;
      assert.deepEqual(versions.map((r) => [r.component, r.version]), STREAM_SCHEMA.migrations.map((m) => ['stream', m.version]));
      const tables = await sql<{ table_name: string }[]>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
      assert.deepEqual(tables.map((r) => r.table_name), ['idempotency_keys', 'publications', 'schema_migrations', 'stream_meta']);
      // Running again later changes nothing.
      assert.equal(await migrate(nodes[1]!, [STREAM_SCHEMA]), 0);
      const [again] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM schema_migrations`;
      assert.equal(Number(again?.n), STREAM_SCHEMA.migrations.length);
    } finally {
      await fresh.drop();
    }
  });

  it('refuses a database from a newer schema version', async () => {
    const sql = db.client(await db.createSchema());
    try {
      await migrate(sql, [STREAM_SCHEMA]);
      await sql`INSERT INTO schema_migrations (component, version) VALUES ('stream', 99)`;
      await assert.rejects(new PostgresStore({ sql }).open(), /stream schema version 99 is newer/);
    } finally {
      await db.end(sql);
    }
  });
});

describe('PostgresStore', () => {
  it('two nodes appending to one channel at once get dense offsets 1..N, no duplicates, in each node\'s call order', async () => {
    const schema = await db.createSchema();
    const nodes = [new PostgresStore({ sql: db.client(schema) }), new PostgresStore({ sql: db.client(schema) })];
    await Promise.all(nodes.map((s) => s.open()));
    try {
      const perNode = 2500;
      const waves = 10;
      const results: Publication[][] = [[], []];
      for (let w = 0; w < waves; w++) {
        const calls = nodes.map((store, n) =>
          Promise.all(
            Array.from({ length: perNode / waves }, (_, i) => store.append('shared', [msg(`${n}:${w * (perNode / waves) + i}`)], KEEP)),
          ),
        );
        const settled = await Promise.all(calls);
        settled.forEach((pubs, n) => results[n]!.push(...pubs.flat()));
      }
      const total = perNode * nodes.length;
      for (const pubs of results) {
        const mine = pubs.map((p) => p.offset!);
        assert.ok(mine.every((o, i) => i === 0 || o > mine[i - 1]!), 'a node\'s offsets follow its call order');
      }
      const all = results.flat().map((p) => p.offset!).sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: total }, (_, i) => i + 1), 'dense 1..N, no duplicates');

      const page = await nodes[1]!.read('shared', { limit: -1 });
      assert.equal(page.position.offset, total);
      assert.deepEqual(page.publications.map((p) => p.offset), all);
      const sentAt = new Map(results.flat().map((p) => [p.offset, p.data]));
      assert.ok(page.publications.every((p) => sentAt.get(p.offset) === p.data), 'each offset holds what was acknowledged for it');
      assert.deepEqual(await nodes[0]!.position('shared'), page.position);
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it('two nodes retrying the same idempotency keys at once store each message once, at one offset both are told', async () => {
    const schema = await db.createSchema();
    const nodes = [new PostgresStore({ sql: db.client(schema) }), new PostgresStore({ sql: db.client(schema) })];
    await Promise.all(nodes.map((s) => s.open()));
    try {
      const COUNT = 300;
      // Both nodes get every key, in opposite orders, as retries through a load balancer would.
      const calls = nodes.map((store, n) =>
        Promise.all(
          Array.from({ length: COUNT }, (_, i) => {
            const k = n === 0 ? i : COUNT - 1 - i;
            return store.append('keyed', [{ data: JSON.stringify({ k }), idempotencyKey: `key-${k}` }], KEEP);
          }),
        ),
      );
      const [first, second] = (await Promise.all(calls)).map((pubs) => pubs.flat());
      const offsetOf = (pubs: Publication[]) => new Map(pubs.map((p) => [JSON.parse(p.data).k as number, p.offset]));
      assert.deepEqual(offsetOf(first!), offsetOf(second!), 'both nodes are told the same offset for each key');
      const page = await nodes[0]!.read('keyed', { limit: -1 });
      assert.equal(page.position.offset, COUNT, 'one offset per key');
      assert.deepEqual(page.publications.map((p) => JSON.parse(p.data).k).sort((a, b) => a - b), Array.from({ length: COUNT }, (_, i) => i));
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it('rejects data that is not storable text in its own call only', () =>
    withStore({}, async (store) => {
      const calls = [
        store.append('ch', [msg(1)], KEEP),
        store.append('ch', [{ data: '{"a":"\u0000"}' }], KEEP),
        store.append('ch', [msg(2)], KEEP),
      ];
      const settled = await Promise.allSettled(calls);
      assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual((await store.read('ch', { limit: -1 })).publications.map((p) => [p.offset, p.data]), [
        [1, msg(1).data],
        [2, msg(2).data],
      ]);
    }));

  it('deletes expired rows in the periodic sweep', () =>
    withStore({ sweepIntervalMs: 20 }, async (store, sql) => {
      await store.append('short', [msg(1), msg(2)], { size: 10, ttlMs: 30 });
      await store.append('forever', [msg(1)], KEEP);
      const count = async (channel: string) => Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM publications WHERE channel = ${channel}`)[0]?.n);
      await waitFor(async () => (await count('short')) === 0, { timeoutMs: 3000, message: 'expired rows swept' });
      assert.equal(await count('forever'), 1);
      assert.equal((await store.position('short')).offset, 2);
    }));
});
