import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { migrate } from '../store/postgres-migrations.js';
import { StoreLifecycle } from '../store/store-lifecycle.js';
import {
  type ChatStore,
  type ConversationRecord,
  type DirectoryEntry,
  type DirectorySearch,
  type DmRecord,
  type UserDetails,
  type MessageChange,
  type MessagePage,
  type NewMessage,
  type NewRoom,
  type ReadState,
  type RoomAccess,
  type RoomBan,
  type RoomRecord,
  type RoomRole,
  type RoomStanding,
  type RoomSummary,
} from './chat-store.js';
import { dmParticipants, refuseChange, toggledReactions, toMessage, toStanding, toUser, userProblem, type MessageRow, type UserRow } from './chat-rows.js';
import { nameKeyOf, searchKeyOf } from './people-search.js';
import * as people from './postgres-people.js';
import {
  ROOM_COLUMNS,
  MESSAGE_COLUMNS,
  advanceRead,
  lastMessage,
  messageById,
  messageRow,
  readSeq,
  readStates,
  fillUserKeys,
  groupPeers,
  selectDm,
  selectUser,
  toRoom,
  type DmPeerRow,
  type Raw,
  type RoomRow,
} from './postgres-chat-queries.js';
import { CHAT_SCHEMA } from './postgres-chat-schema.js';
import * as guests from './postgres-guest-sessions.js';
import * as moderation from './postgres-room-moderation.js';
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
    await fillUserKeys(this.sql);
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
      // Locked so that a username recorded at the same time on another node is not left out of the search key.
      const [current] = await tx<{ username: string | null }[]>`SELECT username FROM chat_users WHERE id = ${user.id} FOR UPDATE`;
      const searchKey = searchKeyOf(user.name, user.username ?? current?.username);
      await tx`INSERT INTO chat_users (id, name, color, avatar, username, created_at, updated_at, last_seen_at, search_key, name_key)
               VALUES (${user.id}, ${user.name}, ${user.color}, ${user.avatar ?? null}, ${user.username ?? null}, ${now}, ${now}, ${now},
                       ${searchKey}, ${nameKeyOf(user.name)})
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, color = EXCLUDED.color, avatar = EXCLUDED.avatar,
                 username = coalesce(EXCLUDED.username, chat_users.username),
                 updated_at = EXCLUDED.updated_at, search_key = EXCLUDED.search_key, name_key = EXCLUDED.name_key`;
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

  createRoom(room: NewRoom): Promise<boolean> {
    return this.write(async (tx) => {
      const rows = await tx`INSERT INTO chat_rooms (name, topic, created_by, created_at, visibility)
                            VALUES (${room.name}, ${room.topic}, ${room.createdBy}, ${room.createdAt}, ${room.visibility ?? 'public'})
                            ON CONFLICT DO NOTHING RETURNING 1`;
      return rows.length === 1;
    });
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    this.lifecycle.assertOpen();
    const [row] = await this.sql<Raw<RoomRow>[]>`SELECT ${this.sql(ROOM_COLUMNS)} FROM chat_rooms WHERE name = ${name}`;
    return row && toRoom(row);
  }

  async listRooms(userId: string, options: { includePrivate?: boolean } = {}): Promise<RoomSummary[]> {
    this.lifecycle.assertOpen();
    const rows = await this.sql<(Raw<RoomRow> & { members: string; role: string | null; muted: boolean | null })[]>`
      SELECT r.name, r.topic, r.created_by, r.created_at, r.visibility, me.role, me.muted,
        (SELECT count(*) FROM chat_room_members m WHERE m.room = r.name) AS members
      FROM chat_rooms r LEFT JOIN chat_room_members me ON me.room = r.name AND me.user_id = ${userId}
      WHERE r.visibility = 'public' OR me.role IS NOT NULL OR ${options.includePrivate === true} ORDER BY r.name COLLATE "C"`;
    return rows.map((row) => {
      const standing = row.role === null ? undefined : toStanding({ role: row.role, muted: row.muted ?? false });
      return { ...toRoom(row), members: Number(row.members), joined: standing !== undefined, standing };
    });
  }

  joinRoom(name: string, userId: string, now: number, role: RoomRole = 'member'): Promise<boolean> {
    return this.write(async (tx) => {
      // Joins share the room row; a ban takes it alone (see insertBan), so a join and a ban on two nodes never interleave.
      await tx`SELECT 1 FROM chat_rooms WHERE name = ${name} FOR SHARE`;
      if (await moderation.isBanned(tx, name, userId)) return false;
      const added = await tx`INSERT INTO chat_room_members (room, user_id, joined_at, role) VALUES (${name}, ${userId}, ${now}, ${role})
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

  // ---- room moderation --------------------------------------------------------

  async roomAccess(name: string, userId: string): Promise<RoomAccess | undefined> {
    this.lifecycle.assertOpen();
    return moderation.selectRoomAccess(this.sql, name, userId);
  }

  async memberStandings(name: string): Promise<Map<string, RoomStanding>> {
    this.lifecycle.assertOpen();
    return moderation.selectNotableStandings(this.sql, name);
  }

  setStanding(name: string, userId: string, change: Partial<RoomStanding>): Promise<boolean> {
    return this.write((tx) => moderation.updateStanding(tx, name, userId, change));
  }

  banFromRoom(name: string, ban: { userId: string; bannedBy: string; bannedAt: number }): Promise<{ banned: boolean; wasMember: boolean }> {
    return this.write((tx) => moderation.insertBan(tx, name, ban));
  }

  unbanFromRoom(name: string, userId: string): Promise<boolean> {
    return this.write((tx) => moderation.deleteBan(tx, name, userId));
  }

  async roomBans(name: string): Promise<RoomBan[]> {
    this.lifecycle.assertOpen();
    return moderation.selectBans(this.sql, name);
  }

  // ---- direct messages --------------------------------------------------------

  openDm(userA: string, userB: string, now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
    if (userA === userB) return Promise.resolve(undefined);
    return this.openGroup([userA, userB], now);
  }

  openGroup(userIds: readonly string[], now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
    const users = dmParticipants(userIds);
    if (!users) return Promise.resolve(undefined);
    return this.write((tx) => people.openGroup(tx, users, now));
  }

  async getDm(channel: string): Promise<DmRecord | undefined> {
    this.lifecycle.assertOpen();
    return selectDm(this.sql, channel);
  }

  // ---- people -----------------------------------------------------------------

  recordSeen(userId: string, seen: { at: number; username: string | null }): Promise<void> {
    return this.write((tx) => people.recordSeen(tx, userId, seen));
  }

  async userDetails(userIds: readonly string[]): Promise<Map<string, UserDetails>> {
    this.lifecycle.assertOpen();
    return people.userDetails(this.sql, userIds);
  }

  async searchUsers(search: DirectorySearch): Promise<DirectoryEntry[]> {
    this.lifecycle.assertOpen();
    return people.searchUsers(this.sql, search);
  }

  expireGuests(seenBefore: number): Promise<string[]> {
    return this.write((tx) => people.expireGuests(tx, seenBefore));
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

  removeMessage(channel: string, id: string, moderatorId: string): Promise<MessageChange> {
    return this.write((tx) => moderation.markRemoved(tx, channel, id, moderatorId));
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
    const rooms = await this.sql<(Raw<RoomRow> & { role: string; muted: boolean })[]>`
      SELECT r.name, r.topic, r.created_by, r.created_at, r.visibility, m.role, m.muted
      FROM chat_room_members m JOIN chat_rooms r ON r.name = m.room WHERE m.user_id = ${userId} ORDER BY r.name COLLATE "C"`;
    const peerRows = await this.sql<(Raw<DmPeerRow>)[]>`
      SELECT d.channel, d.created_at, u.id, u.name, u.color, u.avatar, u.username
      FROM chat_dm_members mine JOIN chat_dms d ON d.channel = mine.channel
      JOIN chat_dm_members other ON other.channel = d.channel AND other.user_id <> ${userId}
      JOIN chat_users u ON u.id = other.user_id
      WHERE mine.user_id = ${userId}`;
    const dms = groupPeers(peerRows);
    const channels = [...rooms.map((row) => `room:${row.name}`), ...dms.map((row) => row.channel)];
    const states = await readStates(this.sql, userId, channels);
    const roomConversations = rooms.map((row): ConversationRecord => {
      const channel = `room:${row.name}`;
      return { kind: 'room', channel, room: toRoom(row), standing: toStanding(row), ...states.get(channel)! };
    });
    const dmConversations = dms.map((row) => {
      const state = states.get(row.channel)!;
      const conversation: ConversationRecord = { kind: 'dm', channel: row.channel, peers: row.peers, ...state };
      return { conversation, at: state.lastMessageAt ?? row.createdAt };
    });
    dmConversations.sort((x, y) => y.at - x.at);
    return [...roomConversations, ...dmConversations.map((d) => d.conversation)];
  }

  async conversationOf(userId: string, channel: string): Promise<ConversationRecord | undefined> {
    this.lifecycle.assertOpen();
    if (channel.startsWith('room:')) {
      const name = channel.slice('room:'.length);
      const room = await this.getRoom(name);
      if (!room) return undefined;
      const standing = await moderation.selectStanding(this.sql, name, userId);
      return { kind: 'room', channel, room, standing, ...(await this.readState(userId, channel)) };
    }
    const dm = await selectDm(this.sql, channel);
    if (!dm?.users.includes(userId)) return undefined;
    const others = dm.users.filter((id) => id !== userId);
    const rows = await this.sql<UserRow[]>`SELECT id, name, color, avatar FROM chat_users WHERE id = ANY(${others}::text[])`;
    const byId = new Map(rows.map((row) => [row.id, toUser(row)]));
    const peers = others.flatMap((id) => byId.get(id) ?? []);
    return { kind: 'dm', channel, peers, ...(await this.readState(userId, channel)) };
  }

  // ---- guest sessions -------------------------------------------------------------

  createGuestSession(tokenHash: string, user: ChatUser, now: number): Promise<void> {
    const problem = userProblem(user);
    if (problem) return Promise.reject(problem);
    return this.write((tx) => guests.insertGuestSession(tx, tokenHash, user, now));
  }

  useGuestSession(tokenHash: string, now: number): Promise<ChatUser | undefined> {
    return this.write((tx) => guests.touchGuestSession(tx, tokenHash, now));
  }

  revokeGuestSession(tokenHash: string): Promise<boolean> {
    return this.write((tx) => guests.deleteGuestSession(tx, tokenHash));
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
