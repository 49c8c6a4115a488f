/**
 * Every SQL statement of the SQLite chat store, prepared once per database.
 * All values are bound parameters; no SQL is ever built from input.
 */
import type Database from 'better-sqlite3';
import type { MessageRow, UserRow } from './chat-rows.js';

/** A `rooms` row. */
export interface RoomRow {
  name: string;
  topic: string;
  created_by: string;
  created_at: number;
  visibility: string;
}

/** A `room_bans` row with the banned user's profile when stored. */
interface BanRow {
  user_id: string;
  banned_by: string;
  banned_at: number;
  name: string | null;
  color: string | null;
  avatar: string | null;
}

interface GuestSessionRow {
  user_id: string;
  name: string;
  color: string;
  avatar: string | null;
  last_used_at: number;
}

const MESSAGE_COLUMNS =
  'pk, id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text, created_at, edited_at, deleted, reactions, removed_by';

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
    /** (id, name, color, avatar, username, now, now, now, search key, name key). A new user counts as seen now; a profile without a username keeps the recorded one. */
    upsertUser: prepare<[string, string, string, string | null, string | null, number, number, number, string, string]>(
      `INSERT INTO users (id, name, color, avatar, username, created_at, updated_at, last_seen_at, search_key, name_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color, avatar = excluded.avatar,
         username = coalesce(excluded.username, users.username),
         updated_at = excluded.updated_at, search_key = excluded.search_key, name_key = excluded.name_key`,
    ),
    getUser: prepare<[string], UserRow>('SELECT id, name, color, avatar, username FROM users WHERE id = ?'),
    /** The username recorded for a user: null when none (or no such user). */
    getUsername: preparePluck<[string], string | null>('SELECT username FROM users WHERE id = ?'),
    insertFirstVisit: prepare<[string]>('INSERT INTO first_visits (user_id) VALUES (?) ON CONFLICT DO NOTHING'),

    // rooms
    insertRoom: prepare<[string, string, string, number, string]>(
      'INSERT INTO rooms (name, topic, created_by, created_at, visibility) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    getRoom: prepare<[string], RoomRow>('SELECT name, topic, created_by, created_at, visibility FROM rooms WHERE name = ?'),
    /** (user, include every private room: 0/1). */
    listRooms: prepare<[string, number], RoomRow & { members: number; role: string | null; muted: number | null }>(
      `SELECT r.name, r.topic, r.created_by, r.created_at, r.visibility, me.role, me.muted,
         (SELECT COUNT(*) FROM room_members m WHERE m.room = r.name) AS members
       FROM rooms r LEFT JOIN room_members me ON me.room = r.name AND me.user_id = ?
       WHERE r.visibility = 'public' OR me.role IS NOT NULL OR ? ORDER BY r.name`,
    ),
    roomsOf: prepare<[string], RoomRow & { role: string; muted: number }>(
      `SELECT r.name, r.topic, r.created_by, r.created_at, r.visibility, m.role, m.muted
       FROM room_members m JOIN rooms r ON r.name = m.room WHERE m.user_id = ? ORDER BY r.name`,
    ),
    insertMember: prepare<[string, string, number, string]>(
      'INSERT INTO room_members (room, user_id, joined_at, role) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    getStanding: prepare<[string, string], { role: string; muted: number }>(
      'SELECT role, muted FROM room_members WHERE room = ? AND user_id = ?',
    ),
    /** (user, user, room): the room's visibility with the user's membership and ban, in one row (none for no room). */
    roomAccess: prepare<[string, string, string], { visibility: string; role: string | null; muted: number | null; banned: number }>(
      `SELECT r.visibility, m.role, m.muted,
         EXISTS (SELECT 1 FROM room_bans b WHERE b.room = r.name AND b.user_id = ?) AS banned
       FROM rooms r LEFT JOIN room_members m ON m.room = r.name AND m.user_id = ? WHERE r.name = ?`,
    ),
    notableStandings: prepare<[string], { user_id: string; role: string; muted: number }>(
      "SELECT user_id, role, muted FROM room_members WHERE room = ? AND (role <> 'member' OR muted <> 0)",
    ),
    /** (role, muted, room, user). */
    updateStanding: prepare<[string, number, string, string]>('UPDATE room_members SET role = ?, muted = ? WHERE room = ? AND user_id = ?'),
    isBanned: preparePluck<[string, string], number>('SELECT 1 FROM room_bans WHERE room = ? AND user_id = ?'),
    insertBan: prepare<[string, string, string, number]>(
      'INSERT INTO room_bans (room, user_id, banned_by, banned_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    deleteBan: prepare<[string, string]>('DELETE FROM room_bans WHERE room = ? AND user_id = ?'),
    roomBans: prepare<[string], BanRow>(
      `SELECT b.user_id, b.banned_by, b.banned_at, u.name, u.color, u.avatar
       FROM room_bans b LEFT JOIN users u ON u.id = b.user_id WHERE b.room = ? ORDER BY b.banned_at DESC, b.user_id`,
    ),
    deleteMember: prepare<[string, string]>('DELETE FROM room_members WHERE room = ? AND user_id = ?'),
    membersVersion: preparePluck<[string], number>('SELECT members_version FROM rooms WHERE name = ?'),
    roomMembers: prepare<[string], UserRow>(
      `SELECT u.id, u.name, u.color, u.avatar, u.username FROM room_members m JOIN users u ON u.id = m.user_id
       WHERE m.room = ? ORDER BY m.joined_at, m.user_id`,
    ),

    // direct messages
    getDm: prepare<[string], { channel: string; created_at: number }>('SELECT channel, created_at FROM dms WHERE channel = ?'),
    dmUsers: preparePluck<[string], string>('SELECT user_id FROM dm_members WHERE channel = ? ORDER BY user_id'),
    insertDm: prepare<[string, number]>('INSERT INTO dms (channel, created_at) VALUES (?, ?)'),
    insertDmMember: prepare<[string, string]>('INSERT INTO dm_members (channel, user_id) VALUES (?, ?)'),
    dmsOf: prepare<[string], { channel: string; created_at: number }>(
      'SELECT d.channel, d.created_at FROM dm_members m JOIN dms d ON d.channel = m.channel WHERE m.user_id = ?',
    ),

    // people
    /** (at, username, search key, id): last seen moves forward only. */
    recordSeen: prepare<[number, string | null, string, string]>(
      `UPDATE users SET last_seen_at = max(last_seen_at, ?), username = ?, search_key = ? WHERE id = ?`,
    ),
    /** (JSON array of ids). */
    userDetails: prepare<[string], { id: string; username: string | null; last_seen_at: number }>(
      'SELECT id, username, last_seen_at FROM users WHERE id IN (SELECT value FROM json_each(?))',
    ),
    /** (JSON array of LIKE patterns, guests seen since, after name key, after name key, after id, limit). */
    searchUsers: prepare<[string, number, string | null, string | null, string, number], UserRow & { username: string | null; name_key: string }>(
      `SELECT id, name, color, avatar, username, name_key FROM users
       WHERE NOT EXISTS (SELECT 1 FROM json_each(?) p WHERE users.search_key NOT LIKE p.value)
         AND (username IS NOT NULL OR substr(id, 1, 2) <> 'g_' OR last_seen_at >= ?)
         AND (? IS NULL OR (name_key, id) > (?, ?))
       ORDER BY name_key, id LIMIT ?`,
    ),
    /** Users whose search key or name key is not filled yet (rows from before they existed). */
    unkeyedUsers: prepare<[], { id: string; name: string; username: string | null }>(
      'SELECT id, name, username FROM users WHERE search_key IS NULL OR name_key IS NULL',
    ),
    setUserKeys: prepare<[string, string, string]>('UPDATE users SET search_key = ?, name_key = ? WHERE id = ?'),
    /** (seen before): rooms with guests to expire. */
    roomsWithExpiredGuests: preparePluck<[number], string>(
      `SELECT DISTINCT m.room FROM room_members m JOIN users u ON u.id = m.user_id
       WHERE substr(u.id, 1, 2) = 'g_' AND u.username IS NULL AND u.last_seen_at < ?`,
    ),
    deleteExpiredGuests: prepare<[number]>(
      `DELETE FROM room_members WHERE user_id IN (
         SELECT id FROM users WHERE substr(id, 1, 2) = 'g_' AND username IS NULL AND last_seen_at < ?)`,
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
    /** (moderator, pk). */
    markRemoved: prepare<[string, number]>("UPDATE messages SET deleted = 1, text = '', reactions = '{}', removed_by = ? WHERE pk = ?"),
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
