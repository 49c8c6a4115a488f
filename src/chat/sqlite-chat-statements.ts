/**
 * Every SQL statement of the SQLite chat store, prepared once per database.
 * All values are bound parameters; no SQL is ever built from input.
 */
import type Database from 'better-sqlite3';
import type { DmRow, MessageRow, UserRow } from './chat-rows.js';

interface RoomRow {
  name: string;
  topic: string;
  created_by: string;
  created_at: number;
}

interface GuestSessionRow {
  user_id: string;
  name: string;
  color: string;
  avatar: string | null;
  last_used_at: number;
}

const MESSAGE_COLUMNS =
  'pk, id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text, created_at, edited_at, deleted, reactions';

/** The prepared statements of one chat database. */
export type ChatStatements = ReturnType<typeof prepareChatStatements>;

/** The part of a prepared statement the store uses, typed by its parameters and row. */
export interface Stmt<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Prepares every statement once; the database must already have the current schema. */
export function prepareChatStatements(db: Database.Database) {
  const prepare = <P extends unknown[], R = unknown>(sql: string): Stmt<P, R> => db.prepare<P, R>(sql);
  /** A statement whose rows are the value of their single column. */
  const preparePluck = <P extends unknown[], R>(sql: string): Stmt<P, R> => db.prepare<P, R>(sql).pluck();
  return {
    // users
    upsertUser: prepare<[string, string, string, string | null, string | null, number, number]>(
      `INSERT INTO users (id, name, color, avatar, username, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color, avatar = excluded.avatar,
         username = coalesce(excluded.username, users.username),
         updated_at = excluded.updated_at`,
    ),
    getUser: prepare<[string], UserRow>('SELECT id, name, color, avatar, username FROM users WHERE id = ?'),
    insertFirstVisit: prepare<[string]>('INSERT INTO first_visits (user_id) VALUES (?) ON CONFLICT DO NOTHING'),

    // rooms
    insertRoom: prepare<[string, string, string, number]>(
      'INSERT INTO rooms (name, topic, created_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    getRoom: prepare<[string], RoomRow>('SELECT name, topic, created_by, created_at FROM rooms WHERE name = ?'),
    listRooms: prepare<[string], RoomRow & { members: number; joined: number }>(
      `SELECT r.name, r.topic, r.created_by, r.created_at,
         (SELECT COUNT(*) FROM room_members m WHERE m.room = r.name) AS members,
         EXISTS (SELECT 1 FROM room_members m WHERE m.room = r.name AND m.user_id = ?) AS joined
       FROM rooms r ORDER BY r.name`,
    ),
    roomsOf: prepare<[string], RoomRow>(
      `SELECT r.name, r.topic, r.created_by, r.created_at
       FROM room_members m JOIN rooms r ON r.name = m.room WHERE m.user_id = ? ORDER BY r.name`,
    ),
    insertMember: prepare<[string, string, number]>(
      'INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    deleteMember: prepare<[string, string]>('DELETE FROM room_members WHERE room = ? AND user_id = ?'),
    membersVersion: preparePluck<[string], number>('SELECT members_version FROM rooms WHERE name = ?'),
    roomMembers: prepare<[string], UserRow>(
      `SELECT u.id, u.name, u.color, u.avatar, u.username FROM room_members m JOIN users u ON u.id = m.user_id
       WHERE m.room = ? ORDER BY m.joined_at, m.user_id`,
    ),

    // direct messages
    getDm: prepare<[string], DmRow>('SELECT channel, user_a, user_b, created_at FROM dms WHERE channel = ?'),
    insertDm: prepare<[string, string, string, number]>(
      'INSERT INTO dms (channel, user_a, user_b, created_at) VALUES (?, ?, ?, ?)',
    ),
    dmsOf: prepare<[string, string], DmRow>(
      `SELECT channel, user_a, user_b, created_at FROM dms WHERE user_a = ?
       UNION ALL SELECT channel, user_a, user_b, created_at FROM dms WHERE user_b = ?`,
    ),

    // messages
    lastMessage: prepare<[string], { seq: number; created_at: number }>(
      'SELECT seq, created_at FROM messages WHERE channel = ? ORDER BY seq DESC LIMIT 1',
    ),
    messageById: prepare<[string, string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel = ? AND id = ?`),
    messageByNonce: prepare<[string, string], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE author_id = ? AND nonce = ?`,
    ),
    insertMessage: prepare<[string, string, number, string, string, string, string | null, string | null, string, number, string | null]>(
      `INSERT INTO messages (id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text, created_at, nonce)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateText: prepare<[string, number, number]>('UPDATE messages SET text = ?, edited_at = ? WHERE pk = ?'),
    markDeleted: prepare<[number]>("UPDATE messages SET deleted = 1, text = '', reactions = '{}' WHERE pk = ?"),
    setReactions: prepare<[string, number]>('UPDATE messages SET reactions = ? WHERE pk = ?'),
    latestMessages: prepare<[string, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel = ? ORDER BY seq DESC LIMIT ?`,
    ),
    messagesBefore: prepare<[string, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    /** (MATCH expression, JSON array of channels, limit). */
    search: prepare<[string, string, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}
       FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid
       WHERE messages_fts MATCH ? AND m.channel IN (SELECT value FROM json_each(?)) AND m.deleted = 0
       ORDER BY m.created_at DESC, m.pk DESC LIMIT ?`,
    ),

    // read positions
    getRead: preparePluck<[string, string], number>('SELECT seq FROM read_positions WHERE user_id = ? AND channel = ?'),
    setRead: prepare<[string, string, number]>(
      `INSERT INTO read_positions (user_id, channel, seq) VALUES (?, ?, ?)
       ON CONFLICT (user_id, channel) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > read_positions.seq`,
    ),
    /** (channel, after seq, reader): messages of others after the position that are not deleted. */
    countUnread: preparePluck<[string, number, string], number>(
      'SELECT COUNT(*) FROM messages WHERE channel = ? AND seq > ? AND author_id <> ? AND deleted = 0',
    ),

    // guest sessions
    insertGuestSession: prepare<[string, string, string, string, string | null, number, number]>(
      `INSERT INTO guest_sessions (token_hash, user_id, name, color, avatar, created_at, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    getGuestSession: prepare<[string], GuestSessionRow>(
      'SELECT user_id, name, color, avatar, last_used_at FROM guest_sessions WHERE token_hash = ?',
    ),
    touchGuestSession: prepare<[number, string]>('UPDATE guest_sessions SET last_used_at = ? WHERE token_hash = ?'),
    deleteGuestSession: prepare<[string]>('DELETE FROM guest_sessions WHERE token_hash = ?'),
    /** Drops sessions last used at or before the given time. */
    purgeGuestSessions: prepare<[number]>('DELETE FROM guest_sessions WHERE last_used_at <= ?'),
  };
}
