/**
 * Accounts for tests that need a server admin: written into a data dir's
 * `accounts.db` before the server starts on it (the first account of a
 * store is its admin).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../../src/accounts/sqlite-account-store.js';

/** Creates accounts in `<dataDir>/accounts.db`, in order: the first one is an admin, the others members. */
export async function seedAccounts(dataDir: string, accounts: readonly { id: string; username: string; displayName: string }[]): Promise<void> {
  const store = new SqliteAccountStore({ path: join(dataDir, ACCOUNTS_DB_FILE) });
  await store.open();
  try {
    for (const account of accounts) {
      // Never used to sign in: these tests connect with minted tokens.
      const created = await store.createAccount({ ...account, passwordHash: 'unused', now: Date.now() });
      assert.ok(created.ok, `account ${account.id} created`);
    }
  } finally {
    await store.close();
  }
}
