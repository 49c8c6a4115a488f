import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { migrate } from '../store/postgres-migrations.js';
import { StoreLifecycle } from '../store/store-lifecycle.js';
import {
  GUEST_SESSION_TTL_MS,
  dmChannelOf,
  type ChatStore,
  type ConversationRecord,
  type DmRecord,
  type MessageChange,
  type MessagePage,
  type NewMessage,
  type ReadState,
  type RoomRecord,
  type RoomSummary,
} from './chat-store.js';
import { refuseChange, toggledReactions, toMessage, toUser, userProblem, type MessageRow, type UserRow } from './chat-rows.js';
import {
  MESSAGE_COLUMNS,
  advanceRead,
  lastMessage,
  messageById,
  messageRow,
  readSeq,
  readStates,
  selectDm,
  selectUser,
  toRoom,
  type DmPeerRow,
  type Raw,
  type RoomRow,
} from './postgres-chat-queries.js';
import { CHAT_SCHEMA } from './postgres-chat-schema.js';
import { searchLexemes, tsqueryText } from './postgres-search.js';
import { PostgresWriteQueue, type PostgresWrite, type PostgresWriteQueueLogger } from './postgres-write-queue.js';
import type { ChatMessage, ChatUser } from './protocol.js';

/** Options for {@link PostgresChatStore}. */
export interface PostgresChatStoreOptions {
  /**
   * The client to use (postgres.js). The store neither opens nor ends it:
   * its owner ends it after {@link PostgresChatStore.close}.
   */
  sql: Sql;
  /** Where failures that affect many callers are reported. */
  logger?: PostgresWriteQueueLogger;
}

/**
 * {@link ChatStore} on PostgreSQL, safe to share between several processes
 * ("nodes") on one database.
 *
 * Writes called in one event-loop turn commit together in one transaction,
 * each in its own savepoint (see {@link PostgresWriteQueue}); batches commit
 * one after another, so one store's writes take effect and settle in call
 * order. A message's seq is taken from its channel's `chat_channel_seqs`
 * row, whose lock is held until COMMIT: seqs are dense across nodes. A
 * nonce is unique per author by a unique index, so two nodes adding the
 * same one store one message. Reads run at once against committed data.
 *
 * Search indexes each message's folded words (`postgres-search.ts`) in a
 * `tsvector` column with a GIN index, set with the text in the same write.
 */
export class PostgresChatStore implements ChatStore {
  private readonly sql: Sql;
  private readonly lifecycle = new StoreLifecycle();
  private readonly writes: PostgresWriteQueue;

  constructor(options: PostgresChatStoreOptions) {
    this.sql = options.sql;
    this.writes = new PostgresWriteQueue(options.sql, options.logger);
  }

  async open(): Promise<void> {
    if (!this.lifecycle.beginOpen()) return;
    await migrate(this.sql, [CHAT_SCHEMA]);
    this.lifecycle.opened();
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    await this.writes.drain();
  }

  // ---- users ----------------------------------------------------------------

  upsertUser(user: ChatUser, now: number): Promise<void> {
    const problem = userProblem(user);
    if (problem) return Promise.reject(problem);
    return this.write(async (tx) => {
      await tx`INSERT INTO chat_users (id, name, color, avatar, username, created_at, updated_at)
               VALUES (${user.id}, ${user.name}, ${user.color}, ${user.avatar ?? null}, ${user.username ?? null}, ${now}, ${now})
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, color = EXCLUDED.color, avatar = EXCLUDED.avatar,
                 username = coalesce(EXCLUDED.username, chat_users.username),
                 updated_at = EXCLUDED.updated_at`;
    });
  }

  async getUser(id: string): Promise<ChatUser | undefined> {
    this.lifecycle.assertOpen();
    const row = await selectUser(this.sql, id);
    return row && toUser(row);
  }

  claimFirstVisit(userId: string): Promise<boolean> {
    return this.write(async (tx) => {
      const rows = await tx`INSERT INTO chat_first_visits (user_id) VALUES (${userId}) ON CONFLICT DO NOTHING RETURNING 1`;
      return rows.length === 1;
    });
  }

  // ---- rooms ----------------------------------------------------------------

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.write(async (tx) => {
      const rows = await tx`INSERT INTO chat_rooms (name, topic, created_by, created_at)
                            VALUES (${room.name}, ${room.topic}, ${room.createdBy}, ${room.createdAt})
                            ON CONFLICT DO NOTHING RETURNING 1`;
      return rows.length === 1;
    });
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    this.lifecycle.assertOpen();
    const [row] = await this.sql<Raw<RoomRow>[]>`SELECT name, topic, created_by, created_at FROM chat_rooms WHERE name = ${name}`;
    return row && toRoom(row);
  }

  async listRooms(userId: string): Promise<RoomSummary[]> {
    this.lifecycle.assertOpen();
    const rows = await this.sql<(Raw<RoomRow> & { members: string; joined: boolean })[]>`
      SELECT r.name, r.topic, r.created_by, r.created_at,
        (SELECT count(*) FROM chat_room_members m WHERE m.room = r.name) AS members,
        EXISTS (SELECT 1 FROM chat_room_members m WHERE m.room = r.name AND m.user_id = ${userId}) AS joined
      FROM chat_rooms r ORDER BY r.name COLLATE "C"`;
    return rows.map((row) => ({ ...toRoom(row), members: Number(row.members), joined: row.joined }));
  }

  joinRoom(name: string, userId: string, now: number): Promise<boolean> {
    return this.write(async (tx) => {
      const added = await tx`INSERT INTO chat_room_members (room, user_id, joined_at) VALUES (${name}, ${userId}, ${now})
                             ON CONFLICT DO NOTHING RETURNING 1`;
      if (added.length !== 1) return false;
      // A newcomer starts with the room read up to now: its backlog is history, not unread news.
      const channel = `room:${name}`;
      const last = await lastMessage(tx, channel);
      if (last) await advanceRead(tx, userId, channel, last.seq);
      return true;
    });
  }

  leaveRoom(name: string, userId: string): Promise<boolean> {
    return this.write(async (tx) => {
      const removed = await tx`DELETE FROM chat_room_members WHERE room = ${name} AND user_id = ${userId} RETURNING 1`;
      return removed.length === 1;
    });
  }

  async roomMembers(name: string): Promise<ChatUser[]> {
    this.lifecycle.assertOpen();
    const rows = await this.sql<UserRow[]>`
      SELECT u.id, u.name, u.color, u.avatar, u.username FROM chat_room_members m JOIN chat_users u ON u.id = m.user_id
      WHERE m.room = ${name} ORDER BY m.joined_at, m.user_id COLLATE "C"`;
    return rows.map(toUser);
  }

  async membersVersion(name: string): Promise<number> {
    this.lifecycle.assertOpen();
    const [row] = await this.sql<{ members_version: string }[]>`SELECT members_version FROM chat_rooms WHERE name = ${name}`;
    return row ? Number(row.members_version) : 0;
  }

  // ---- direct messages --------------------------------------------------------

  openDm(userA: string, userB: string, now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
    return this.write(async (tx) => {
      if (userA === userB || !(await selectUser(tx, userA)) || !(await selectUser(tx, userB))) return undefined;
      const channel = dmChannelOf(userA, userB);
      const [a, b] = userA < userB ? [userA, userB] : [userB, userA];
      const added = await tx`INSERT INTO chat_dms (channel, user_a, user_b, created_at) VALUES (${channel}, ${a}, ${b}, ${now})
                             ON CONFLICT DO NOTHING RETURNING 1`;
      if (added.length === 1) return { dm: { channel, users: [a, b] as const, createdAt: now }, created: true };
      const existing = await selectDm(tx, channel);
      if (!existing) throw new Error(`DM ${channel} vanished`);
      return { dm: existing, created: false };
    });
  }

  async getDm(channel: string): Promise<DmRecord | undefined> {
    this.lifecycle.assertOpen();
    return selectDm(this.sql, channel);
  }

  // ---- messages ---------------------------------------------------------------

  addMessage(input: NewMessage): Promise<{ message: ChatMessage; created: boolean }> {
    const problem = userProblem(input.author);
    if (problem) return Promise.reject(problem);
    const { channel, author, text, createdAt, nonce } = input;
    return this.write(async (tx) => {
      const first = async () => {
        const [row] = await tx<Raw<MessageRow>[]>`SELECT ${tx(MESSAGE_COLUMNS)} FROM chat_messages
                                                  WHERE author_id = ${author.id} AND nonce = ${nonce ?? null}`;
        return row && { message: toMessage(messageRow(row)), created: false };
      };
      if (nonce !== undefined) {
        const found = await first();
        if (found) return found;
      }
      // Held until COMMIT: the next add to this channel, from any node, waits for this one.
      const [reserved] = await tx<{ last_seq: string }[]>`
        INSERT INTO chat_channel_seqs (channel, last_seq) VALUES (${channel}, 1)
        ON CONFLICT (channel) DO UPDATE SET last_seq = chat_channel_seqs.last_seq + 1 RETURNING last_seq`;
      const seq = Number(reserved!.last_seq);
      // 96 random bits: unguessable and, in practice, never repeated.
      const id = randomBytes(12).toString('base64url');
      const inserted = await tx`
        INSERT INTO chat_messages (id, channel, seq, author_id, author_name, author_color, author_avatar, author_username, text, created_at, nonce, search)
        VALUES (${id}, ${channel}, ${seq}, ${author.id}, ${author.name}, ${author.color}, ${author.avatar ?? null}, ${author.username ?? null}, ${text},
                ${createdAt}, ${nonce ?? null}, array_to_tsvector(${searchLexemes(text)}::text[]))
        ON CONFLICT (author_id, nonce) WHERE nonce IS NOT NULL DO NOTHING RETURNING 1`;
      if (inserted.length === 1) {
        return { message: { id, channel, seq, author: { ...author }, text, createdAt, reactions: {} }, created: true };
      }
      // Another node stored this nonce meanwhile: give the seq back (its row is still locked by us).
      await tx`UPDATE chat_channel_seqs SET last_seq = last_seq - 1 WHERE channel = ${channel}`;
      const found = await first();
      if (!found) throw new Error('a message nonce conflicted with no stored message');
      return found;
    });
  }

  async getMessage(channel: string, id: string): Promise<ChatMessage | undefined> {
    this.lifecycle.assertOpen();
    const row = await messageById(this.sql, channel, id);
    return row && toMessage(row);
  }

  editMessage(channel: string, id: string, userId: string, text: string, editedAt: number): Promise<MessageChange> {
    return this.write(async (tx) => {
      const row = await messageById(tx, channel, id, true);
      const refusal = refuseChange(row, userId);
      if (refusal) return refusal;
      await tx`UPDATE chat_messages SET text = ${text}, edited_at = ${editedAt}, search = array_to_tsvector(${searchLexemes(text)}::text[])
               WHERE pk = ${row!.pk}`;
      return { ok: true, message: toMessage({ ...row!, text, edited_at: editedAt }) };
    });
  }

  deleteMessage(channel: string, id: string, userId: string): Promise<MessageChange> {
    return this.write(async (tx) => {
      const row = await messageById(tx, channel, id, true);
      const refusal = refuseChange(row, userId);
      if (refusal) return refusal;
      await tx`UPDATE chat_messages SET deleted = true, text = '', reactions = '{}', search = ''::tsvector WHERE pk = ${row!.pk}`;
      return { ok: true, message: toMessage({ ...row!, text: '', deleted: true, reactions: '{}' }) };
    });
  }

  toggleReaction(channel: string, id: string, userId: string, emoji: string): Promise<MessageChange> {
    return this.write(async (tx): Promise<MessageChange> => {
      const row = await messageById(tx, channel, id, true);
      const toggled = toggledReactions(row, userId, emoji);
      if (!('json' in toggled)) return toggled;
      await tx`UPDATE chat_messages SET reactions = ${toggled.json} WHERE pk = ${row!.pk}`;
      return { ok: true, message: toMessage({ ...row!, reactions: toggled.json }) };
    });
  }

  async history(channel: string, options: { before?: number; limit: number }): Promise<MessagePage> {
    this.lifecycle.assertOpen();
    const { before, limit } = options;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('history limit must be a positive integer');
    // One extra row tells whether there is more without a second query.
    const rows = await this.sql<Raw<MessageRow>[]>`
      SELECT ${this.sql(MESSAGE_COLUMNS)} FROM chat_messages
      WHERE channel = ${channel} AND (${before ?? null}::bigint IS NULL OR seq < ${before ?? null}::bigint)
      ORDER BY seq DESC LIMIT ${limit + 1}`;
    const hasMore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map((row) => toMessage(messageRow(row))), hasMore };
  }

  async search(query: string, options: { channels: readonly string[]; limit: number }): Promise<ChatMessage[]> {
    this.lifecycle.assertOpen();
    const match = tsqueryText(query);
    if (match === undefined || options.channels.length === 0 || options.limit < 1) return [];
    const rows = await this.sql<Raw<MessageRow>[]>`
      SELECT ${this.sql(MESSAGE_COLUMNS)} FROM chat_messages
      WHERE search @@ ${match}::tsquery AND channel = ANY(${[...options.channels]}::text[]) AND NOT deleted
      ORDER BY created_at DESC, pk DESC LIMIT ${Math.floor(options.limit)}`;
    return rows.map((row) => toMessage(messageRow(row)));
  }

  // ---- read state ---------------------------------------------------------------

  markRead(userId: string, channel: string, seq: number): Promise<{ seq: number; moved: boolean }> {
    if (!Number.isSafeInteger(seq) || seq < 0) return Promise.reject(new RangeError('read seq must be an integer >= 0'));
    return this.write(async (tx) => {
      const current = await readSeq(tx, userId, channel);
      const target = Math.min(seq, (await lastMessage(tx, channel))?.seq ?? 0);
      if (target <= current) return { seq: current, moved: false };
      if (await advanceRead(tx, userId, channel, target)) return { seq: target, moved: true };
      // Another node moved it at least as far meanwhile.
      return { seq: await readSeq(tx, userId, channel), moved: false };
    });
  }

  async readState(userId: string, channel: string): Promise<ReadState> {
    this.lifecycle.assertOpen();
    return (await readStates(this.sql, userId, [channel])).get(channel)!;
  }

  async conversationsOf(userId: string): Promise<ConversationRecord[]> {
    this.lifecycle.assertOpen();
    const rooms = await this.sql<Raw<RoomRow>[]>`
      SELECT r.name, r.topic, r.created_by, r.created_at
      FROM chat_room_members m JOIN chat_rooms r ON r.name = m.room WHERE m.user_id = ${userId} ORDER BY r.name COLLATE "C"`;
    const dms = await this.sql<(Raw<DmPeerRow>)[]>`
      SELECT d.channel, d.created_at, u.id, u.name, u.color, u.avatar, u.username
      FROM chat_dms d JOIN chat_users u ON u.id = CASE WHEN d.user_a = ${userId} THEN d.user_b ELSE d.user_a END
      WHERE d.user_a = ${userId} OR d.user_b = ${userId}`;
    const channels = [...rooms.map((row) => `room:${row.name}`), ...dms.map((row) => row.channel)];
    const states = await readStates(this.sql, userId, channels);
    const roomConversations = rooms.map((row): ConversationRecord => {
      const channel = `room:${row.name}`;
      return { kind: 'room', channel, room: toRoom(row), ...states.get(channel)! };
    });
    const dmConversations = dms.map((row) => {
      const state = states.get(row.channel)!;
      const conversation: ConversationRecord = { kind: 'dm', channel: row.channel, peer: toUser(row), ...state };
      return { conversation, at: state.lastMessageAt ?? Number(row.created_at) };
    });
    dmConversations.sort((x, y) => y.at - x.at);
    return [...roomConversations, ...dmConversations.map((d) => d.conversation)];
  }

  async conversationOf(userId: string, channel: string): Promise<ConversationRecord | undefined> {
    this.lifecycle.assertOpen();
    if (channel.startsWith('room:')) {
      const room = await this.getRoom(channel.slice('room:'.length));
      if (!room) return undefined;
      return { kind: 'room', channel, room, ...(await this.readState(userId, channel)) };
    }
    const dm = await selectDm(this.sql, channel);
    if (!dm?.users.includes(userId)) return undefined;
    const peer = await selectUser(this.sql, dm.users[0] === userId ? dm.users[1] : dm.users[0]);
    if (!peer) return undefined;
    return { kind: 'dm', channel, peer: toUser(peer), ...(await this.readState(userId, channel)) };
  }

  // ---- guest sessions -------------------------------------------------------------

  createGuestSession(tokenHash: string, user: ChatUser, now: number): Promise<void> {
    const problem = userProblem(user);
    if (problem) return Promise.reject(problem);
    return this.write(async (tx) => {
      await tx`DELETE FROM chat_guest_sessions WHERE last_used_at <= ${now - GUEST_SESSION_TTL_MS}`;
      await tx`INSERT INTO chat_guest_sessions (token_hash, user_id, name, color, avatar, created_at, last_used_at)
               VALUES (${tokenHash}, ${user.id}, ${user.name}, ${user.color}, ${user.avatar ?? null}, ${now}, ${now})`;
    });
  }

  useGuestSession(tokenHash: string, now: number): Promise<ChatUser | undefined> {
    return this.write(async (tx) => {
      const [row] = await tx<{ user_id: string; name: string; color: string; avatar: string | null; last_used_at: string }[]>`
        SELECT user_id, name, color, avatar, last_used_at FROM chat_guest_sessions WHERE token_hash = ${tokenHash} FOR UPDATE`;
      if (!row) return undefined;
      const lastUsedAt = Number(row.last_used_at);
      if (now - lastUsedAt >= GUEST_SESSION_TTL_MS) {
        await tx`DELETE FROM chat_guest_sessions WHERE token_hash = ${tokenHash}`;
        return undefined;
      }
      await tx`UPDATE chat_guest_sessions SET last_used_at = ${Math.max(now, lastUsedAt)} WHERE token_hash = ${tokenHash}`;
      return toUser({ id: row.user_id, name: row.name, color: row.color, avatar: row.avatar });
    });
  }

  revokeGuestSession(tokenHash: string): Promise<boolean> {
    return this.write(async (tx) => (await tx`DELETE FROM chat_guest_sessions WHERE token_hash = ${tokenHash} RETURNING 1`).length === 1);
  }

  // ---- plumbing ---------------------------------------------------------------------

  /** Queues a write for the next group commit (see {@link PostgresWriteQueue}). */
  private write<T>(op: PostgresWrite<T>): Promise<T> {
    try {
      this.lifecycle.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writes.write(op);
  }
}
