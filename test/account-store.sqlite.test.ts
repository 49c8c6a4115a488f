import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../src/accounts/sqlite-account-store.js';
import { runAccountStoreContract } from './contracts/account-store-contract.js';
import { fileSettings, tempDbFile, writeSchemaVersion } from './helpers/sqlite-file.js';

runAccountStoreContract('SqliteAccountStore', async () => {
  const { file, cleanup } = tempDbFile(ACCOUNTS_DB_FILE);
  return { store: new SqliteAccountStore({ path: file }), another: async () => new SqliteAccountStore({ path: file }), cleanup };
});

describe('SqliteAccountStore specifics', () => {
  it('uses WAL and a versioned schema of its own tables', async () => {
    const { file, cleanup } = tempDbFile(ACCOUNTS_DB_FILE);
    try {
      const store = new SqliteAccountStore({ path: file });
      await store.open();
      await store.close();
      assert.deepEqual(fileSettings(file), { journalMode: 'wal', userVersion: 3, tables: ['account_audit', 'account_invites', 'account_sessions', 'account_users', 'sqlite_sequence'] });
    } finally {
      await cleanup();
    }
  });

  it('refuses a database written by a newer version', async () => {
    const { file, cleanup } = tempDbFile(ACCOUNTS_DB_FILE);
    try {
      writeSchemaVersion(file, 99);
      await assert.rejects(new SqliteAccountStore({ path: file }).open(), /accounts database schema version 99 is newer than the supported 3/);
    } finally {
      await cleanup();
    }
  });
});
