import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
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
import { ftsMatchExpression } from './fts-query.js';
import { refuseChange, toDm, toggledReactions, toMessage, toUser, userProblem } from './chat-rows.js';
import type { ChatMessage, ChatUser } from './protocol.js';
import { CHAT_MIGRATIONS } from './sqlite-chat-schema.js';
import { openSqliteFile } from '../store/sqlite-file.js';
import { prepareChatStatements, type ChatStatements } from './sqlite-chat-statements.js';
import { SqliteWriteQueue, type WriteQueueLogger } from './sqlite-write-queue.js';

/** Where {@link SqliteChatStore} reports failures that affect many callers. */
export type SqliteChatStoreLogger = WriteQueueLogger;

/** Options for {@link SqliteChatStore}. */
export interface SqliteChatStoreOptions {
  /** Database file; its directory must exist. */
  path: string;
  logger?: SqliteChatStoreLogger;
  /** How long a write waits for a lock held by another connection before failing. @default 5000 */
  busyTimeoutMs?: number;
}

/**
 * {@link ChatStore} in one SQLite file (WAL, `synchronous = FULL`, foreign
 * keys on), with full-text search by an FTS5 index kept in step by triggers.
 *
 * Writes called during one event-loop turn are committed together in one
 * transaction (one fsync for all of them), each in its own savepoint so one
 * failing write rolls back alone; their promises settle in call order after
 * the commit. Reads run at once against committed data.
 *
 * One database file must be served by one `SqliteChatStore` at a time.
 */
export class SqliteChatStore implements ChatStore {
  private state: 'new' | 'open' | 'closed' = 'new';
  private db: Database.Database | undefined;
  private stmts: ChatStatements | undefined;
  private writes: SqliteWriteQueue<ChatStatements> | undefined;

  constructor(private readonly options: SqliteChatStoreOptions) {}

  async open(): Promise<void> {
    if (this.state === 'closed') throw new Error('chat store is closed');
    if (this.state === 'open') return;
    const busyTimeoutMs = Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 5000));
    const { db, prepared } = openSqliteFile(
      { path: this.options.path, busyTimeoutMs, migrations: CHAT_MIGRATIONS, what: 'chat database' },
      prepareChatStatements,
    );
    this.stmts = prepared;
    this.writes = new SqliteWriteQueue(db, this.stmts, this.options.logger);
    this.db = db;
    this.state = 'open';
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (!wasOpen) return;
    this.writes?.flush();
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
    this.writes = undefined;
  }

  // ---- users ----------------------------------------------------------------

  upsertUser(user: ChatUser, now: number): Promise<void> {
    const problem = userProblem(user);
    if (problem) return Promise.reject(problem);
    return this.write((s) => {
      s.upsertUser.run(user.id, user.name, user.color, user.avatar ?? null, user.username ?? null, now, now);
    });
  }

  async getUser(id: string): Promise<ChatUser | undefined> {
    const row = this.reader().getUser.get(id);
    return row && toUser(row);
  }

  claimFirstVisit(userId: string): Promise<boolean> {
    return this.write((s) => s.insertFirstVisit.run(userId).changes === 1);
  }

  // ---- rooms ----------------------------------------------------------------

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.write((s) => s.insertRoom.run(room.name, room.topic, room.createdBy, room.createdAt).changes === 1);
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    const row = this.reader().getRoom.get(name);
    return row && { name: row.name, topic: row.topic, createdBy: row.created_by, createdAt: row.created_at };
  }

  async listRooms(userId: string): Promise<RoomSummary[]> {
    return this.reader().listRooms.all(userId).map((row) => ({
      name: row.name,
      topic: row.topic,
      createdBy: row.created_by,
      createdAt: row.created_at,
      members: row.members,
      joined: row.joined === 1,
    }));
  }

  joinRoom(name: string, userId: string, now: number): Promise<boolean> {
    return this.write((s) => {
      if (s.insertMember.run(name, userId, now).changes !== 1) return false;
      // A newcomer starts with the room read up to now: its backlog is history, not unread news.
      const channel = `room:${name}`;
      const last = s.lastMessage.get(channel)?.seq ?? 0;
      if (last > (s.getRead.get(userId, channel) ?? 0)) s.setRead.run(userId, channel, last);
      return true;
    });
  }

  leaveRoom(name: string, userId: string): Promise<boolean> {
    return this.write((s) => s.deleteMember.run(name, userId).changes === 1);
  }

  async roomMembers(name: string): Promise<ChatUser[]> {
    return this.reader().roomMembers.all(name).map(toUser);
  }

  async membersVersion(name: string): Promise<number> {
    return this.reader().membersVersion.get(name) ?? 0;
  }

  // ---- direct messages --------------------------------------------------------

  openDm(userA: string, userB: string, now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
    return this.write((s) => {
      if (userA === userB || !s.getUser.get(userA) || !s.getUser.get(userB)) return undefined;
      const channel = dmChannelOf(userA, userB);
      const existing = s.getDm.get(channel);
      if (existing) return { dm: toDm(existing), created: false };
      const [a, b] = userA < userB ? [userA, userB] : [userB, userA];
      s.insertDm.run(channel, a, b, now);
      return { dm: { channel, users: [a, b] as const, createdAt: now }, created: true };
    });
  }

  async getDm(channel: string): Promise<DmRecord | undefined> {
    const row = this.reader().getDm.get(channel);
    return row && toDm(row);
  }

  // ---- messages ---------------------------------------------------------------

  addMessage(input: NewMessage): Promise<{ message: ChatMessage; created: boolean }> {
    const problem = userProblem(input.author);
    if (problem) return Promise.reject(problem);
    const { channel, author, text, createdAt, nonce } = input;
    return this.write((s) => {
      if (nonce !== undefined) {
        const first = s.messageByNonce.get(author.id, nonce);
        if (first) return { message: toMessage(first), created: false };
      }
      const seq = (s.lastMessage.get(channel)?.seq ?? 0) + 1;
      // 96 random bits: unguessable and, in practice, never repeated.
      const id = randomBytes(12).toString('base64url');
      s.insertMessage.run(id, channel, seq, author.id, author.name, author.color, author.avatar ?? null, author.username ?? null, text, createdAt, nonce ?? null);
      const message: ChatMessage = { id, channel, seq, author: { ...author }, text, createdAt, reactions: {} };
      return { message, created: true };
    });
  }

  async getMessage(channel: string, id: string): Promise<ChatMessage | undefined> {
    const row = this.reader().messageById.get(channel, id);
    return row && toMessage(row);
  }

  editMessage(channel: string, id: string, userId: string, text: string, editedAt: number): Promise<MessageChange> {
    return this.write((s) => {
      const row = s.messageById.get(channel, id);
      const refusal = refuseChange(row, userId);
      if (refusal) return refusal;
      s.updateText.run(text, editedAt, row!.pk);
      return { ok: true, message: toMessage({ ...row!, text, edited_at: editedAt }) };
    });
  }

  deleteMessage(channel: string, id: string, userId: string): Promise<MessageChange> {
    return this.write((s) => {
      const row = s.messageById.get(channel, id);
      const refusal = refuseChange(row, userId);
      if (refusal) return refusal;
      s.markDeleted.run(row!.pk);
      return { ok: true, message: toMessage({ ...row!, text: '', deleted: 1, reactions: '{}' }) };
    });
  }

  toggleReaction(channel: string, id: string, userId: string, emoji: string): Promise<MessageChange> {
    return this.write((s): MessageChange => {
      const row = s.messageById.get(channel, id);
      const toggled = toggledReactions(row, userId, emoji);
      if (!('json' in toggled)) return toggled;
      s.setReactions.run(toggled.json, row!.pk);
      return { ok: true, message: toMessage({ ...row!, reactions: toggled.json }) };
    });
  }

  async history(channel: string, options: { before?: number; limit: number }): Promise<MessagePage> {
    const s = this.reader();
    const { before, limit } = options;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('history limit must be a positive integer');
    // One extra row tells whether there is more without a second query.
    const rows = before === undefined ? s.latestMessages.all(channel, limit + 1) : s.messagesBefore.all(channel, before, limit + 1);
    const hasMore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore };
  }

  async search(query: string, options: { channels: readonly string[]; limit: number }): Promise<ChatMessage[]> {
    const s = this.reader();
    const match = ftsMatchExpression(query);
    if (match === undefined || options.channels.length === 0 || options.limit < 1) return [];
    return s.search.all(match, JSON.stringify(options.channels), Math.floor(options.limit)).map(toMessage);
  }

  // ---- read state ---------------------------------------------------------------

  markRead(userId: string, channel: string, seq: number): Promise<{ seq: number; moved: boolean }> {
    if (!Number.isSafeInteger(seq) || seq < 0) return Promise.reject(new RangeError('read seq must be an integer >= 0'));
    return this.write((s) => {
      const current = s.getRead.get(userId, channel) ?? 0;
      const target = Math.min(seq, s.lastMessage.get(channel)?.seq ?? 0);
      if (target <= current) return { seq: current, moved: false };
      s.setRead.run(userId, channel, target);
      return { seq: target, moved: true };
    });
  }

  async readState(userId: string, channel: string): Promise<ReadState> {
    return readStateOf(this.reader(), userId, channel);
  }

  async conversationsOf(userId: string): Promise<ConversationRecord[]> {
    const s = this.reader();
    const rooms: ConversationRecord[] = s.roomsOf.all(userId).map((row) => ({
      kind: 'room',
      channel: `room:${row.name}`,
      room: { name: row.name, topic: row.topic, createdBy: row.created_by, createdAt: row.created_at },
      ...readStateOf(s, userId, `room:${row.name}`),
    }));
    const dms = s.dmsOf.all(userId, userId).flatMap((row) => {
      const conversation = dmConversation(s, userId, toDm(row));
      return conversation ? [{ conversation, at: conversation.lastMessageAt ?? row.created_at }] : [];
    });
    dms.sort((x, y) => y.at - x.at);
    return [...rooms, ...dms.map((d) => d.conversation)];
  }

  async conversationOf(userId: string, channel: string): Promise<ConversationRecord | undefined> {
    const s = this.reader();
    if (channel.startsWith('room:')) {
      const row = s.getRoom.get(channel.slice('room:'.length));
      if (!row) return undefined;
      const room = { name: row.name, topic: row.topic, createdBy: row.created_by, createdAt: row.created_at };
      return { kind: 'room', channel, room, ...readStateOf(s, userId, channel) };
    }
    const row = s.getDm.get(channel);
    return row ? dmConversation(s, userId, toDm(row)) : undefined;
  }

  // ---- guest sessions -------------------------------------------------------------

  createGuestSession(tokenHash: string, user: ChatUser, now: number): Promise<void> {
    const problem = userProblem(user);
    if (problem) return Promise.reject(problem);
    return this.write((s) => {
      s.purgeGuestSessions.run(now - GUEST_SESSION_TTL_MS);
      s.insertGuestSession.run(tokenHash, user.id, user.name, user.color, user.avatar ?? null, now, now);
    });
  }

  useGuestSession(tokenHash: string, now: number): Promise<ChatUser | undefined> {
    return this.write((s) => {
      const row = s.getGuestSession.get(tokenHash);
      if (!row) return undefined;
      if (now - row.last_used_at >= GUEST_SESSION_TTL_MS) {
        s.deleteGuestSession.run(tokenHash);
        return undefined;
      }
      s.touchGuestSession.run(Math.max(now, row.last_used_at), tokenHash);
      return toUser({ id: row.user_id, name: row.name, color: row.color, avatar: row.avatar });
    });
  }

  revokeGuestSession(tokenHash: string): Promise<boolean> {
    return this.write((s) => s.deleteGuestSession.run(tokenHash).changes === 1);
  }

  // ---- plumbing ---------------------------------------------------------------------

  private reader(): ChatStatements {
    if (this.state === 'new') throw new Error('chat store is not open: call open() first');
    if (this.state === 'closed' || !this.stmts) throw new Error('chat store is closed');
    return this.stmts;
  }

  /** Queues a write for the next group commit (see {@link SqliteWriteQueue}). */
  private write<T>(op: (s: ChatStatements) => T): Promise<T> {
    try {
      this.reader();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writes!.write(op);
  }
}

function readStateOf(s: ChatStatements, userId: string, channel: string): ReadState {
  const last = s.lastMessage.get(channel);
  const lastReadSeq = s.getRead.get(userId, channel) ?? 0;
  const state: ReadState = {
    lastSeq: last?.seq ?? 0,
    lastReadSeq,
    unread: last && last.seq > lastReadSeq ? s.countUnread.get(channel, lastReadSeq, userId) ?? 0 : 0,
  };
  if (last) state.lastMessageAt = last.created_at;
  return state;
}

function dmConversation(s: ChatStatements, userId: string, dm: DmRecord): ConversationRecord | undefined {
  if (!dm.users.includes(userId)) return undefined;
  const peerId = dm.users[0] === userId ? dm.users[1] : dm.users[0];
  const peer = s.getUser.get(peerId);
  if (!peer) return undefined;
  return { kind: 'dm', channel: dm.channel, peer: toUser(peer), ...readStateOf(s, userId, dm.channel) };
}
