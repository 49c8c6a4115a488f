import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../src/accounts/sqlite-account-store.js';
import { runAccountStoreContract } from './contracts/account-store-contract.js';

/** A fresh data dir holding one accounts database file, removed by `cleanup`. */
function tempDb(): { file: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-accounts-'));
  return { file: join(dir, ACCOUNTS_DB_FILE), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

runAccountStoreContract('SqliteAccountStore', async () => {
  const { file, cleanup } = tempDb();
  return { store: new SqliteAccountStore({ path: file }), another: async () => new SqliteAccountStore({ path: file }), cleanup };
});

describe('SqliteAccountStore specifics', () => {
  it('uses WAL, full sync on commit and a versioned schema', async () => {
    const { file, cleanup } = tempDb();
    const store = new SqliteAccountStore({ path: file });
    await store.open();
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), 1);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepEqual(tables, ['account_invites', 'account_sessions', 'account_users']);
    } finally {
      db.close();
      await cleanup();
    }
  });

  it('refuses a database written by a newer version', async () => {
    const { file, cleanup } = tempDb();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const store = new SqliteAccountStore({ path: file });
    try {
      await assert.rejects(() => store.open(), /accounts database schema version 99 is newer than the supported 1/);
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
