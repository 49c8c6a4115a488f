import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { PublishRequest } from '../src/protocol/types.js';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite-store.js';
import type { Retention } from '../src/store/store.js';
import { runStoreContract } from './contracts/store-contract.js';

const KEEP: Retention = { size: 1000, ttlMs: 0 };
const msg = (n: number | string): PublishRequest => ({ data: JSON.stringify({ n }) });

/** A fresh directory for one database file, removed by `cleanup`. */
function tempDb(): { file: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
  return { file: join(dir, 'parley.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

runStoreContract('SqliteStore', async () => {
  const { file, cleanup } = tempDb();
  return {
    store: new SqliteStore({ path: file }),
    reopen: async () => new SqliteStore({ path: file }),
    cleanup,
  };
});

/** Runs `fn` with an opened store on a fresh file, then closes and removes it. */
async function withStore(
  options: Omit<SqliteStoreOptions, 'path'>,
  fn: (store: SqliteStore, file: string) => Promise<void>,
): Promise<void> {
  const { file, cleanup } = tempDb();
  const store = new SqliteStore({ path: file, ...options });
  await store.open();
  try {
    await fn(store, file);
  } finally {
    try {
      await store.close();
    } finally {
      await cleanup();
    }
  }
}

describe('SqliteStore', () => {
  it('creates a versioned schema in WAL mode', () =>
    withStore({}, async (_store, file) => {
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.pragma('user_version', { simple: true }), 2);
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
        assert.deepEqual(tables, ['channels', 'idempotency_keys', 'publications']);
      } finally {
        db.close();
      }
    }));

  it('group commit: after a quiet spell an append commits at once; appends right after a commit gather into the next batch', () =>
    withStore({ commitIntervalMs: 400 }, async (store) => {
      // Quiet store: committed by the end of the turn, without waiting for the interval.
      const first = store.append('g', [msg(1)], KEEP);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal((await store.position('g')).offset, 1, 'the first append is committed within a turn');
      await first;

      // Right after that commit: these wait for the interval and commit together.
      const settled: number[] = [];
      const second = store.append('g', [msg(2)], KEEP).then(() => settled.push(2));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal((await store.position('g')).offset, 1, 'not committed yet: gathering');
      const third = store.append('h', [msg(3)], KEEP).then(() => settled.push(3));
      await Promise.all([second, third]);
      assert.deepEqual(settled, [2, 3]);
      assert.equal((await store.position('g')).offset, 2);
      assert.equal((await store.position('h')).offset, 1);
    }));

  it('refuses a database from a newer schema version', async () => {
    const { file, cleanup } = tempDb();
    try {
      const db = new Database(file);
      db.pragma('user_version = 99');
      db.close();
      await assert.rejects(new SqliteStore({ path: file }).open(), /schema version 99/);
    } finally {
      await cleanup();
    }
  });

  it('rejects a failed batch and keeps offsets consistent', async () => {
    const errors: { obj: object; msg: string }[] = [];
    const logger = { error: (obj: object, msg: string) => errors.push({ obj, msg }) };
    // A second connection holding the write lock makes the batch commit fail with SQLITE_BUSY.
    await withStore({ logger, busyTimeoutMs: 20 }, async (store, file) => {
      await store.append('a', [msg('a1')], KEEP);
      await store.append('b', [msg('b1')], KEEP);
      const locker = new Database(file);
      locker.exec('BEGIN IMMEDIATE');
      const failed = await Promise.allSettled([
        store.append('a', [msg('lost-1'), msg('lost-2')], KEEP),
        store.append('b', [msg('lost-3')], KEEP),
        store.append('a', [msg('lost-4')], KEEP),
      ]);
      locker.exec('ROLLBACK');
      locker.close();
      assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
      assert.equal(errors.length, 1);

      const [a2] = await store.append('a', [msg('a2')], KEEP);
      const [b2] = await store.append('b', [msg('b2')], KEEP);
      assert.equal(a2?.offset, 2);
      assert.equal(b2?.offset, 2);
      const pageA = await store.read('a', { limit: -1 });
      assert.deepEqual(pageA.publications.map((p) => [p.offset, p.data]), [[1, msg('a1').data], [2, msg('a2').data]]);
      assert.deepEqual((await store.read('b', { limit: -1 })).publications.map((p) => p.data), [msg('b1').data, msg('b2').data]);
    });
  });

  it('deletes expired rows in the periodic sweep', () =>
    withStore({ sweepIntervalMs: 20 }, async (store, file) => {
      await store.append('short', [msg(1), msg(2)], { size: 10, ttlMs: 30 });
      await store.append('forever', [msg(1)], KEEP);
      const db = new Database(file, { readonly: true });
      try {
        const count = db.prepare<[string], number>('SELECT count(*) FROM publications WHERE channel = ?').pluck();
        const deadline = Date.now() + 3000;
        while (count.get('short') !== 0) {
          assert.ok(Date.now() < deadline, 'expired rows were not swept');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.equal(count.get('forever'), 1);
        assert.equal((await store.position('short')).offset, 2);
      } finally {
        db.close();
      }
    }));
});
