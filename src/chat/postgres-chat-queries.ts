/**
 * The queries the PostgreSQL chat store shares between its reads and its
 * writes, and the conversion of postgres.js rows (whose `bigint` columns
 * arrive as strings) to the shared row shapes. All values are bound
 * parameters; no SQL is ever built from input.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { DmRecord, ReadState, RoomRecord } from './chat-store.js';
import { toDm, type MessageRow, type UserRow } from './chat-rows.js';

/** A client or a transaction: the helpers run in either. */
export type Db = Sql | TransactionSql;
/** A row as postgres.js returns it: `bigint` columns arrive as strings. */
export type Raw<R> = { [K in keyof R]: R[K] extends number ? string : R[K] extends number | null ? string | null : R[K] };

/** The columns a message is read with, in `MessageRow` order. */
export const MESSAGE_COLUMNS = ['pk', 'id', 'channel', 'seq', 'author_id', 'author_name', 'author_color', 'author_avatar', 'author_username', 'text', 'created_at', 'edited_at', 'deleted', 'reactions'] as const;

/** A `chat_rooms` row. */
export interface RoomRow {
  name: string;
  topic: string;
  created_by: string;
  created_at: number;
}

/** A DM with the profile of the other user in it. */
export interface DmPeerRow extends UserRow {
  channel: string;
  created_at: number;
}

export function toRoom(row: Raw<RoomRow>): RoomRecord {
  return { name: row.name, topic: row.topic, createdBy: row.created_by, createdAt: Number(row.created_at) };
}

export function messageRow(raw: Raw<MessageRow>): MessageRow {
  return {
    ...raw,
    pk: Number(raw.pk),
    seq: Number(raw.seq),
    created_at: Number(raw.created_at),
    edited_at: raw.edited_at === null ? null : Number(raw.edited_at),
  };
}

export async function selectUser(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db<UserRow[]>`SELECT id, name, color, avatar, username FROM chat_users WHERE id = ${id}`;
  return row;
}

export async function selectDm(db: Db, channel: string): Promise<DmRecord | undefined> {
  const [row] = await db<{ channel: string; user_a: string; user_b: string; created_at: string }[]>`
    SELECT channel, user_a, user_b, created_at FROM chat_dms WHERE channel = ${channel}`;
  return row && toDm({ ...row, created_at: Number(row.created_at) });
}

/** A message of a channel; with `lock`, its row stays locked until the transaction ends. */
export async function messageById(db: Db, channel: string, id: string, lock = false): Promise<MessageRow | undefined> {
  const [row] = await db<Raw<MessageRow>[]>`
    SELECT ${db(MESSAGE_COLUMNS)} FROM chat_messages WHERE channel = ${channel} AND id = ${id} ${lock ? db`FOR UPDATE` : db``}`;
  return row && messageRow(row);
}

export async function lastMessage(db: Db, channel: string): Promise<{ seq: number; createdAt: number } | undefined> {
  const [row] = await db<{ seq: string; created_at: string }[]>`
    SELECT seq, created_at FROM chat_messages WHERE channel = ${channel} ORDER BY seq DESC LIMIT 1`;
  return row && { seq: Number(row.seq), createdAt: Number(row.created_at) };
}

export async function readSeq(db: Db, userId: string, channel: string): Promise<number> {
  const [row] = await db<{ seq: string }[]>`SELECT seq FROM chat_read_positions WHERE user_id = ${userId} AND channel = ${channel}`;
  return row ? Number(row.seq) : 0;
}

/** Moves a read position forward to `seq`; resolves false when it already was there or further. */
export async function advanceRead(db: Db, userId: string, channel: string, seq: number): Promise<boolean> {
  const rows = await db`
    INSERT INTO chat_read_positions (user_id, channel, seq) VALUES (${userId}, ${channel}, ${seq})
    ON CONFLICT (user_id, channel) DO UPDATE SET seq = EXCLUDED.seq WHERE EXCLUDED.seq > chat_read_positions.seq
    RETURNING 1`;
  return rows.length === 1;
}

/** Read states of one user in several channels, by channel, in one query. */
export async function readStates(db: Db, userId: string, channels: readonly string[]): Promise<Map<string, ReadState>> {
  const rows = await db<{ channel: string; last_seq: string | null; last_at: string | null; read_seq: string | null; unread: string }[]>`
    SELECT c.channel, l.seq AS last_seq, l.created_at AS last_at, r.seq AS read_seq,
      (SELECT count(*) FROM chat_messages m
       WHERE m.channel = c.channel AND m.seq > coalesce(r.seq, 0) AND m.author_id <> ${userId} AND NOT m.deleted) AS unread
    FROM unnest(${[...channels]}::text[]) AS c (channel)
    LEFT JOIN LATERAL (SELECT seq, created_at FROM chat_messages WHERE channel = c.channel ORDER BY seq DESC LIMIT 1) l ON true
    LEFT JOIN chat_read_positions r ON r.user_id = ${userId} AND r.channel = c.channel`;
  const states = new Map<string, ReadState>();
  for (const row of rows) {
    const state: ReadState = { lastSeq: Number(row.last_seq ?? 0), lastReadSeq: Number(row.read_seq ?? 0), unread: Number(row.unread) };
    if (row.last_at !== null) state.lastMessageAt = Number(row.last_at);
    states.set(row.channel, state);
  }
  return states;
}
