/**
 * Copying a single-node data dir (the stream store `parley.db`, the chat
 * store `chat.db` and the account store `accounts.db`, all SQLite) into PostgreSQL, so a deployment moves to a
 * cluster without clients noticing: every channel keeps its epoch, top
 * offset and retained publications (recovery goes on across the move), and
 * the chat keeps its users, rooms, members, DMs, messages with edits,
 * deletions and reactions, read positions and guest sessions, and every
 * account with its sessions (nobody is signed out) and the invitations.
 *
 * The copy is one PostgreSQL transaction: it lands entirely or not at all.
 * It is fingerprinted (SHA-256 over every row read, in a fixed order) and
 * recorded, so importing the same data again is a no-op.
 */
import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type postgres from 'postgres';
import type { Sql, TransactionSql } from 'postgres';
import { newSessionId } from '../accounts/account-rows.js';
import { ACCOUNTS_DB_FILE } from '../accounts/sqlite-account-store.js';
import { searchLexemes } from '../chat/postgres-search.js';
import { migrate } from '../store/postgres-migrations.js';
import { POSTGRES_SCHEMAS } from './postgres-schemas.js';

/** Rows copied, by kind. */
export interface ImportCounts {
  channels: number;
  publications: number;
  users: number;
  firstVisits: number;
  rooms: number;
  members: number;
  bans: number;
  dms: number;
  /** Participants of DMs, summed. */
  dmMembers: number;
  messages: number;
  reactions: number;
  readPositions: number;
  guestSessions: number;
  accounts: number;
  accountSessions: number;
  invites: number;
  auditEntries: number;
}

/** What {@link importDataDir} did. */
export type ImportResult =
  | { status: 'imported'; counts: ImportCounts }
  /** This exact data was imported before (at `importedAt`); nothing was written. */
  | { status: 'already-imported'; counts: ImportCounts; importedAt: Date };

/** The target database holds Parley data and `force` was not given. */
export class ImportRefusedError extends Error {}

export interface ImportOptions {
  /** The data dir holding `parley.db`, `chat.db` and/or `accounts.db`. */
  from: string;
  /** Replace whatever Parley data the database holds. @default false */
  force?: boolean;
}

/**
 * Schema versions of the SQLite files this code can read (`PRAGMA user_version`).
 * Stream v2 added idempotency keys, which are not copied: they matter for
 * five minutes after a publish, and an import moves a stopped server.
 * Chat files older than v5 (rooms without visibility, roles and bans; no
 * usernames; DMs of two only) are migrated by starting this version of Parley on the data dir once.
 */
const READABLE_VERSIONS = { stream: [1, 2], chat: [5], accounts: [1, 2, 3] } as const;
/** Rows per INSERT: one JSON parameter each, kept to a few megabytes. */
const CHUNK_ROWS = 1000;
/** Any 64-bit value all Parley processes agree on ("parleyim"): two imports at once run one after the other. */
const IMPORT_LOCK_KEY = 0x7061726c6579696dn;

type Row = Record<string, unknown>;

/** One table's copy: the ordered SQLite read, and the INSERT that takes a JSON array of its rows as `$1`. */
interface TableCopy {
  counts: keyof ImportCounts;
  from: keyof typeof READABLE_VERSIONS;
  /** The read, or the read for the file's schema version (`PRAGMA user_version`). */
  select: string | ((version: number) => string);
  insert: string;
  /** Turns a SQLite row into the JSON object the INSERT reads. */
  toTarget?: (row: Row) => Row;
}

const COPIES: readonly TableCopy[] = [
  {
    counts: 'channels',
    from: 'stream',
    select: 'SELECT name, epoch, top, ttl_ms FROM channels ORDER BY name',
    insert: `INSERT INTO stream_meta (channel, epoch, top_offset, ttl_ms)
             SELECT name, epoch, top, ttl_ms FROM json_to_recordset($1::json) AS x (name text, epoch text, top bigint, ttl_ms bigint)`,
  },
  {
    counts: 'publications',
    from: 'stream',
    select: 'SELECT channel, "offset", data, info, tags, time FROM publications ORDER BY channel, "offset"',
    insert: `INSERT INTO publications (channel, "offset", data, info, tags, time)
             SELECT channel, "offset", data, info, tags, time
             FROM json_to_recordset($1::json) AS x (channel text, "offset" bigint, data text, info text, tags text, time bigint)`,
  },
  {
    counts: 'users',
    from: 'chat',
    // Search and sort keys are left NULL: the store fills them when it opens.
    select: 'SELECT id, name, color, avatar, created_at, updated_at, username, last_seen_at FROM users ORDER BY id',
    insert: `INSERT INTO chat_users (id, name, color, avatar, created_at, updated_at, username, last_seen_at)
             SELECT id, name, color, avatar, created_at, updated_at, username, last_seen_at
             FROM json_to_recordset($1::json) AS x (id text, name text, color text, avatar text, created_at bigint, updated_at bigint,
               username text, last_seen_at bigint)`,
  },
  {
    counts: 'firstVisits',
    from: 'chat',
    select: 'SELECT user_id FROM first_visits ORDER BY user_id',
    insert: `INSERT INTO chat_first_visits (user_id) SELECT user_id FROM json_to_recordset($1::json) AS x (user_id text)`,
  },
  {
    counts: 'rooms',
    from: 'chat',
    select: 'SELECT name, topic, created_by, created_at, visibility FROM rooms ORDER BY name',
    insert: `INSERT INTO chat_rooms (name, topic, created_by, created_at, visibility)
             SELECT name, topic, created_by, created_at, visibility
             FROM json_to_recordset($1::json) AS x (name text, topic text, created_by text, created_at bigint, visibility text)`,
  },
  {
    counts: 'members',
    from: 'chat',
    select: 'SELECT room, user_id, joined_at, role, muted FROM room_members ORDER BY room, user_id',
    insert: `INSERT INTO chat_room_members (room, user_id, joined_at, role, muted)
             SELECT room, user_id, joined_at, role, muted
             FROM json_to_recordset($1::json) AS x (room text, user_id text, joined_at bigint, role text, muted boolean)`,
    toTarget: (row) => ({ ...row, muted: row.muted === 1 }),
  },
  {
    counts: 'bans',
    from: 'chat',
    select: 'SELECT room, user_id, banned_by, banned_at FROM room_bans ORDER BY room, user_id',
    insert: `INSERT INTO chat_room_bans (room, user_id, banned_by, banned_at)
             SELECT room, user_id, banned_by, banned_at
             FROM json_to_recordset($1::json) AS x (room text, user_id text, banned_by text, banned_at bigint)`,
  },
  {
    counts: 'dms',
    from: 'chat',
    select: 'SELECT channel, created_at FROM dms ORDER BY channel',
    insert: `INSERT INTO chat_dms (channel, created_at)
             SELECT channel, created_at FROM json_to_recordset($1::json) AS x (channel text, created_at bigint)`,
  },
  {
    counts: 'dmMembers',
    from: 'chat',
    select: 'SELECT channel, user_id FROM dm_members ORDER BY channel, user_id',
    insert: `INSERT INTO chat_dm_members (channel, user_id)
             SELECT channel, user_id FROM json_to_recordset($1::json) AS x (channel text, user_id text)`,
  },
  {
    counts: 'messages',
    from: 'chat',
    // In insertion order, so the new row ids (search's tie-break) keep it.
    select: `SELECT id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text, created_at, edited_at,
                    deleted, reactions, nonce, removed_by FROM messages ORDER BY pk`,
    insert: `INSERT INTO chat_messages (id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text,
                                        created_at, edited_at, deleted, reactions, nonce, removed_by, search)
             SELECT id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text, created_at,
                    edited_at, deleted, reactions, nonce, removed_by, array_to_tsvector(lexemes)
             FROM json_to_recordset($1::json) AS x (id text, channel text, seq bigint, author_id text, author_name text,
               author_color text, author_avatar text, author_username text, text text, created_at bigint, edited_at bigint,
               deleted boolean, reactions text, nonce text, removed_by text, lexemes text[])`,
    toTarget: (row) => ({ ...row, deleted: row.deleted === 1, lexemes: row.deleted === 1 ? [] : searchLexemes(String(row.text)) }),
  },
  {
    counts: 'readPositions',
    from: 'chat',
    select: 'SELECT user_id, channel, seq FROM read_positions ORDER BY user_id, channel',
    insert: `INSERT INTO chat_read_positions (user_id, channel, seq)
             SELECT user_id, channel, seq FROM json_to_recordset($1::json) AS x (user_id text, channel text, seq bigint)`,
  },
  {
    counts: 'guestSessions',
    from: 'chat',
    select: 'SELECT token_hash, user_id, name, color, avatar, created_at, last_used_at FROM guest_sessions ORDER BY token_hash',
    insert: `INSERT INTO chat_guest_sessions (token_hash, user_id, name, color, avatar, created_at, last_used_at)
             SELECT token_hash, user_id, name, color, avatar, created_at, last_used_at
             FROM json_to_recordset($1::json) AS x (token_hash text, user_id text, name text, color text, avatar text,
               created_at bigint, last_used_at bigint)`,
  },
  {
    counts: 'accounts',
    from: 'accounts',
    select: `SELECT id, username, username_key, display_name, password_hash, role, deactivated_at, created_at, password_changed_at
             FROM account_users ORDER BY id`,
    insert: `INSERT INTO account_users (id, username, username_key, display_name, password_hash, role, deactivated_at, created_at, password_changed_at)
             SELECT id, username, username_key, display_name, password_hash, role, deactivated_at, created_at, password_changed_at
             FROM json_to_recordset($1::json) AS x (id text, username text, username_key text, display_name text, password_hash text,
               role text, deactivated_at bigint, created_at bigint, password_changed_at bigint)`,
  },
  {
    counts: 'accountSessions',
    from: 'accounts',
    select: (version) => `SELECT ${version >= 3 ? 'id' : 'NULL AS id'}, token_hash, account_id, device, created_at, last_used_at, expires_at
                          FROM account_sessions ORDER BY token_hash`,
    insert: `INSERT INTO account_sessions (id, token_hash, account_id, device, created_at, last_used_at, expires_at)
             SELECT id, token_hash, account_id, device, created_at, last_used_at, expires_at
             FROM json_to_recordset($1::json) AS x (id text, token_hash text, account_id text, device text,
               created_at bigint, last_used_at bigint, expires_at bigint)`,
    // Files from before session ids: each session gets one now (its tokens named none).
    toTarget: (row) => (row.id === null ? { ...row, id: newSessionId() } : row),
  },
  {
    counts: 'invites',
    from: 'accounts',
    select: 'SELECT code_hash, created_by, created_at, expires_at, max_uses, uses FROM account_invites ORDER BY code_hash',
    insert: `INSERT INTO account_invites (code_hash, created_by, created_at, expires_at, max_uses, uses)
             SELECT code_hash, created_by, created_at, expires_at, max_uses, uses
             FROM json_to_recordset($1::json) AS x (code_hash text, created_by text, created_at bigint, expires_at bigint,
               max_uses integer, uses integer)`,
  },
  {
    counts: 'auditEntries',
    from: 'accounts',
    // Files from before the audit log have none.
    select: (version) =>
      version >= 2
        ? 'SELECT id, at, actor, action, target, channel, detail FROM account_audit ORDER BY id'
        : 'SELECT NULL AS id, NULL AS at, NULL AS actor, NULL AS action, NULL AS target, NULL AS channel, NULL AS detail WHERE 0',
    insert: `INSERT INTO account_audit (id, at, actor, action, target, channel, detail)
             SELECT id, at, actor, action, target, channel, detail
             FROM json_to_recordset($1::json) AS x (id bigint, at bigint, actor text, action text, target text, channel text, detail text)`,
  },
];

/** Every table holding Parley data in PostgreSQL (what "empty" and `force` are about). */
const TARGET_TABLES = [
  'stream_meta', 'publications', 'idempotency_keys', 'chat_users', 'chat_first_visits', 'chat_rooms', 'chat_room_members', 'chat_room_bans', 'chat_dms',
  'chat_dm_members', 'chat_channel_seqs', 'chat_messages', 'chat_read_positions', 'chat_guest_sessions', 'account_invites', 'account_sessions',
  'account_users', 'account_audit',
] as const;

/**
 * Copies the data dir into the database (migrating its schema first).
 * @throws ImportRefusedError when the database holds Parley data, unless `force` (which replaces it).
 * @throws Error when the data dir has no Parley database, or one written by a newer version.
 */
export async function importDataDir(sql: Sql, options: ImportOptions): Promise<ImportResult> {
  const sources = openSources(options.from);
  try {
    // One read transaction per file: a consistent snapshot for both passes, even if a server still writes.
    for (const db of Object.values(sources)) db?.exec('BEGIN');
    const { fingerprint, counts } = survey(sources);
    await migrate(sql, POSTGRES_SCHEMAS);
    return await sql.begin(async (tx): Promise<ImportResult> => {
      await tx`SELECT pg_advisory_xact_lock(${IMPORT_LOCK_KEY.toString()}::bigint)`;
      const [done] = await tx<{ counts: ImportCounts; imported_at: Date }[]>`
        SELECT counts, imported_at FROM parley_imports WHERE fingerprint = ${fingerprint}`;
      if (done) return { status: 'already-imported', counts: done.counts, importedAt: done.imported_at };
      const held = await heldRows(tx);
      if (held.length > 0) {
        if (!options.force) {
          throw new ImportRefusedError(`the database already holds Parley data (${held.join(', ')}); --force replaces it with the data dir's`);
        }
        await tx.unsafe(`TRUNCATE ${[...TARGET_TABLES, 'parley_imports'].join(', ')} RESTART IDENTITY`);
      }
      for (const copy of COPIES) {
        const db = sources[copy.from];
        if (db) await copyTable(tx, db, copy);
      }
      await tx`INSERT INTO chat_channel_seqs (channel, last_seq) SELECT channel, max(seq) FROM chat_messages GROUP BY channel`;
      // Audit ids were copied as they were: new entries continue after them.
      await tx`SELECT setval(pg_get_serial_sequence('account_audit', 'id'), greatest((SELECT max(id) FROM account_audit), 1), (SELECT max(id) FROM account_audit) IS NOT NULL)`;
      await tx`INSERT INTO parley_imports (fingerprint, source, counts) VALUES (${fingerprint}, ${options.from}, ${tx.json({ ...counts })})`;
      return { status: 'imported', counts };
    });
  } finally {
    for (const db of Object.values(sources)) db?.close();
  }
}

type Sources = { [K in keyof typeof READABLE_VERSIONS]: Database.Database | undefined };

/** The SQL of a copy's read for the schema version of `db`. */
function selectOf(copy: TableCopy, db: Database.Database): string {
  return typeof copy.select === 'string' ? copy.select : copy.select(db.pragma('user_version', { simple: true }) as number);
}

function openSources(dir: string): Sources {
  const open = (file: string, from: keyof typeof READABLE_VERSIONS): Database.Database | undefined => {
    const path = join(dir, file);
    if (!existsSync(path)) return undefined;
    const db = new Database(path, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (!(READABLE_VERSIONS[from] as readonly number[]).includes(version)) {
      db.close();
      throw new Error(`${path} has schema version ${version}, which this version of Parley cannot import (start this version on the data dir once to migrate an older one)`);
    }
    return db;
  };
  const opened: Database.Database[] = [];
  const openKept = (file: string, from: keyof typeof READABLE_VERSIONS): Database.Database | undefined => {
    const db = open(file, from);
    if (db) opened.push(db);
    return db;
  };
  try {
    const sources: Sources = { stream: openKept('parley.db', 'stream'), chat: openKept('chat.db', 'chat'), accounts: openKept(ACCOUNTS_DB_FILE, 'accounts') };
    if (opened.length === 0) throw new Error(`${dir} holds no Parley data (no parley.db, chat.db or ${ACCOUNTS_DB_FILE})`);
    return sources;
  } catch (err) {
    for (const db of opened) db.close();
    throw err;
  }
}

/** Counts every row and fingerprints them all, in copy order. */
function survey(sources: Sources): { fingerprint: string; counts: ImportCounts } {
  const hash = createHash('sha256');
  const counts: ImportCounts = { ...Object.fromEntries(COPIES.map((copy) => [copy.counts, 0])), reactions: 0 } as ImportCounts;
  for (const copy of COPIES) {
    hash.update(`\u0000${copy.counts}\u0000`);
    const db = sources[copy.from];
    if (!db) continue;
    for (const row of db.prepare<[], Row>(selectOf(copy, db)).iterate()) {
      counts[copy.counts]++;
      hashRow(hash, row);
      if (copy.counts === 'messages') counts.reactions += reactionCount(String(row.reactions));
    }
  }
  return { fingerprint: hash.digest('hex'), counts };
}

function hashRow(hash: Hash, row: Row): void {
  hash.update(JSON.stringify(Object.values(row)));
  hash.update('\n');
}

/** Reactions on one message: one per user per emoji. */
function reactionCount(json: string): number {
  return Object.values(JSON.parse(json) as Record<string, string[]>).reduce((n, users) => n + users.length, 0);
}

async function copyTable(tx: TransactionSql, db: Database.Database, copy: TableCopy): Promise<void> {
  let chunk: Row[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    await tx.unsafe(copy.insert, [tx.json(chunk as postgres.JSONValue)]);
    chunk = [];
  };
  for (const row of db.prepare<[], Row>(selectOf(copy, db)).iterate()) {
    for (const [column, value] of Object.entries(row)) {
      // PostgreSQL text cannot hold a NUL character; say where it is instead of failing with an encoding error.
      if (typeof value === 'string' && value.includes('\u0000')) {
        throw new Error(`${copy.counts}: a row holds a NUL character in ${column}, which PostgreSQL cannot store`);
      }
    }
    chunk.push(copy.toTarget ? copy.toTarget(row) : row);
    if (chunk.length === CHUNK_ROWS) await flush();
  }
  await flush();
}

/** Descriptions of the Parley rows the database holds ("3 in stream_meta", …); empty when none. */
async function heldRows(tx: TransactionSql): Promise<string[]> {
  const held: string[] = [];
  for (const table of TARGET_TABLES) {
    // Table names come from the constant list above, never from input.
    const [row] = await tx.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM ${table}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) held.push(`${n} in ${table}`);
  }
  return held;
}
