import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNT_SCHEMA } from '../src/accounts/postgres-account-schema.js';
import { PostgresAccountStore } from '../src/accounts/postgres-account-store.js';
import { POSTGRES_SCHEMAS } from '../src/admin/postgres-schemas.js';
import { migrate } from '../src/store/postgres-migrations.js';
import { runAccountStoreContract } from './contracts/account-store-contract.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';

// One database for this run; every fixture gets its own schema in it.
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

runAccountStoreContract('PostgresAccountStore', async () => {
  // Each store has its own client, as each node would.
  const stores = await db.storesOnFreshSchema((sql) => new PostgresAccountStore({ sql }));
  return { store: stores.open(), another: async () => stores.open(), cleanup: stores.cleanup };
});

describe('PostgresAccountStore schema', () => {
  it('is a component of `parley migrate`, created once when stores of several nodes open at once', async () => {
    assert.ok(POSTGRES_SCHEMAS.includes(ACCOUNT_SCHEMA));
    const schema = await db.createSchema();
    const clients = Array.from({ length: 3 }, () => db.client(schema));
    try {
      await Promise.all(clients.map((sql) => new PostgresAccountStore({ sql }).open()));
      const sql = clients[0]!;
      const versions = await sql<{ version: number }[]>`SELECT version FROM schema_migrations WHERE component = 'account' ORDER BY version`;
      assert.deepEqual(versions.map((r) => r.version), ACCOUNT_SCHEMA.migrations.map((m) => m.version));
      const tables = await sql<{ table_name: string }[]>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} AND table_name LIKE 'account%' ORDER BY table_name`;
      assert.deepEqual(tables.map((r) => r.table_name), ['account_audit', 'account_invites', 'account_sessions', 'account_users']);
      assert.equal(await migrate(sql, [ACCOUNT_SCHEMA]), 0, 'nothing left to apply');
    } finally {
      await Promise.all(clients.map((sql) => db.end(sql)));
    }
  });

  it('refuses a database whose account schema is newer', async () => {
    const sql = db.client(await db.createSchema());
    try {
      await migrate(sql, [ACCOUNT_SCHEMA]);
      await sql`INSERT INTO schema_migrations (component, version) VALUES ('account', 99)`;
      await assert.rejects(new PostgresAccountStore({ sql }).open(), /account schema version 99 is newer/);
    } finally {
      await db.end(sql);
    }
  });
});
