import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { CHAT_MIGRATIONS } from '../src/chat/sqlite-chat-schema.js';
import { SqliteChatStore } from '../src/chat/sqlite-chat-store.js';
import { ftsMatchExpression, searchTerms } from '../src/chat/fts-query.js';
import { runChatStoreContract, type ChatStoreFixture } from './contracts/chat-store-contract.js';
import { assertMigratedPeople, runChatStorePeopleContract } from './contracts/chat-store-people-contract.js';
import { tempDbFile, writeSchemaVersion } from './helpers/sqlite-file.js';

const tempDb = () => tempDbFile('chat.db');

const fixture = async (): Promise<ChatStoreFixture> => {
  const { file, cleanup } = tempDb();
  return {
    store: new SqliteChatStore({ path: file }),
    reopen: async () => new SqliteChatStore({ path: file }),
    cleanup,
  };
};
runChatStoreContract('SqliteChatStore', fixture);
runChatStorePeopleContract('SqliteChatStore', fixture);

describe('SqliteChatStore specifics', () => {
  it('uses WAL, a versioned schema and an FTS5 index', async () => {
    const { file, cleanup } = tempDb();
    const store = new SqliteChatStore({ path: file });
    await store.open();
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), 5);
      const fts = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").pluck().get() as string;
      assert.match(fts, /USING fts5/i);
    } finally {
      db.close();
      await cleanup();
    }
  });

  it('moves 1:1 DMs and profiles of a version 2 database into the group-DM and people schema', async () => {
    const { file, cleanup } = tempDb();
    const old = new Database(file);
    try {
      for (const step of CHAT_MIGRATIONS.slice(0, 2)) old.exec(step);
      old.pragma('user_version = 2');
      const user = old.prepare('INSERT INTO users (id, name, color, avatar, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?)');
      user.run('ann', 'Ann-Marie Lée', '#000000', 1, 5);
      user.run('bob', 'Bob', '#000000', 1, 6);
      old.prepare('INSERT INTO dms (channel, user_a, user_b, created_at) VALUES (?, ?, ?, ?)').run('dm:ann,bob', 'ann', 'bob', 7);
    } finally {
      old.close();
    }
    const store = new SqliteChatStore({ path: file });
    try {
      await store.open();
      await assertMigratedPeople(store);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('refuses a database written by a newer version', async () => {
    const { file, cleanup } = tempDb();
    writeSchemaVersion(file, 99);
    const store = new SqliteChatStore({ path: file });
    try {
      await assert.rejects(() => store.open(), /newer than the supported/);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('refuses calls before open and after close', async () => {
    const { file, cleanup } = tempDb();
    const store = new SqliteChatStore({ path: file });
    await assert.rejects(async () => store.getUser('a'), /not open/);
    await store.open();
    await store.close();
    await assert.rejects(async () => store.addMessage({ channel: 'room:x', author: { id: 'a', name: 'A', color: '#000000' }, text: 't', createdAt: 1 }), /closed/);
    await cleanup();
  });
});

describe('FTS query building', () => {
  it('keeps only words, quoted, as prefixes joined with AND', () => {
    assert.equal(ftsMatchExpression('hello wor'), '"hello"* AND "wor"*');
    assert.equal(ftsMatchExpression('"foo AND ('), '"foo"* AND "AND"*');
    assert.equal(ftsMatchExpression('text:foo -bar^ NEAR(x)'), '"text"* AND "foo"* AND "bar"* AND "NEAR"* AND "x"*');
    assert.equal(ftsMatchExpression('  ()"*: '), undefined);
    assert.deepEqual(searchTerms('Grüße, 東京! don\'t don\'t'), ['Grüße', '東京', 'don', 't']);
    assert.equal(searchTerms(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')).length, 12);
  });
});
