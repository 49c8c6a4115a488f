import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  GUEST_SESSION_TTL_MS,
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
import { ftsMatchExpression } from './fts-query.js';
import { dmParticipants, refuseChange, toDm, toggledReactions, toMessage, toStanding, toUser, userProblem } from './chat-rows.js';
import { nameKeyOf, searchKeyOf } from './people-search.js';
import * as people from './sqlite-people.js';
import type { ChatMessage, ChatUser } from './protocol.js';
import { CHAT_MIGRATIONS } from './sqlite-chat-schema.js';
import { openSqliteFile } from '../store/sqlite-file.js';
import { prepareChatStatements, type ChatStatements, type RoomRow } from './sqlite-chat-statements.js';
import * as moderation from './sqlite-room-moderation.js';
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
    people.fillUserKeys(db, prepared);
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
      const username = user.username ?? s.getUsername.get(user.id) ?? null;
      s.upsertUser.run(user.id, user.name, user.color, user.avatar ?? null, user.username ?? null, now, now, now, searchKeyOf(user.name, username), nameKeyOf(user.name));
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

  createRoom(room: NewRoom): Promise<boolean> {
    const visibility = room.visibility ?? 'public';
    return this.write((s) => s.insertRoom.run(room.name, room.topic, room.createdBy, room.createdAt, visibility).changes === 1);
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    const row = this.reader().getRoom.get(name);
    return row && toRoom(row);
  }

  async listRooms(userId: string, options: { includePrivate?: boolean } = {}): Promise<RoomSummary[]> {
    return this.reader()
      .listRooms.all(userId, options.includePrivate ? 1 : 0)
      .map((row) => {
        const standing = row.role === null ? undefined : toStanding({ role: row.role, muted: row.muted ?? 0 });
        return { ...toRoom(row), members: row.members, joined: standing !== undefined, standing };
      });
  }

  joinRoom(name: string, userId: string, now: number, role: RoomRole = 'member'): Promise<boolean> {
    return this.write((s) => {
      if (s.isBanned.get(name, userId)) return false;
      if (s.insertMember.run(name, userId, now, role).changes !== 1) return false;
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

  // ---- room moderation --------------------------------------------------------

  async roomAccess(name: string, userId: string): Promise<RoomAccess | undefined> {
    return moderation.roomAccess(this.reader(), name, userId);
  }

  async memberStandings(name: string): Promise<Map<string, RoomStanding>> {
    return moderation.notableStandings(this.reader(), name);
  }

  setStanding(name: string, userId: string, change: Partial<RoomStanding>): Promise<boolean> {
    return this.write((s) => moderation.updateStanding(s, name, userId, change));
  }

  banFromRoom(name: string, ban: { userId: string; bannedBy: string; bannedAt: number }): Promise<{ banned: boolean; wasMember: boolean }> {
    return this.write((s) => moderation.ban(s, name, ban));
  }

  unbanFromRoom(name: string, userId: string): Promise<boolean> {
    return this.write((s) => s.deleteBan.run(name, userId).changes === 1);
  }

  async roomBans(name: string): Promise<RoomBan[]> {
    return moderation.bans(this.reader(), name);
  }

  // ---- direct messages --------------------------------------------------------

  openDm(userA: string, userB: string, now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
    if (userA === userB) return Promise.resolve(undefined);
    return this.openGroup([userA, userB], now);
  }

  openGroup(userIds: readonly string[], now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
    const users = dmParticipants(userIds);
    if (!users) return Promise.resolve(undefined);
    return this.write((s) => people.openGroup(s, users, now));
  }

  async getDm(channel: string): Promise<DmRecord | undefined> {
    const s = this.reader();
    const row = s.getDm.get(channel);
    return row && toDm(row, s.dmUsers.all(channel));
  }

  // ---- people -----------------------------------------------------------------

  recordSeen(userId: string, seen: { at: number; username: string | null }): Promise<void> {
    return this.write((s) => people.recordSeen(s, userId, seen));
  }

  async userDetails(userIds: readonly string[]): Promise<Map<string, UserDetails>> {
    return people.userDetails(this.reader(), userIds);
  }

  async searchUsers(search: DirectorySearch): Promise<DirectoryEntry[]> {
    return people.searchUsers(this.reader(), search);
  }

  expireGuests(seenBefore: number): Promise<string[]> {
    return this.write((s) => people.expireGuests(s, seenBefore));
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

  removeMessage(channel: string, id: string, moderatorId: string): Promise<MessageChange> {
    return this.write((s) => moderation.markRemoved(s, channel, id, moderatorId));
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
      room: toRoom(row),
      standing: toStanding(row),
      ...readStateOf(s, userId, `room:${row.name}`),
    }));
    const dms = s.dmsOf.all(userId).flatMap((row) => {
      const conversation = dmConversation(s, userId, toDm(row, s.dmUsers.all(row.channel)));
      return conversation ? [{ conversation, at: conversation.lastMessageAt ?? row.created_at }] : [];
    });
    dms.sort((x, y) => y.at - x.at);
    return [...rooms, ...dms.map((d) => d.conversation)];
  }

  async conversationOf(userId: string, channel: string): Promise<ConversationRecord | undefined> {
    const s = this.reader();
    if (channel.startsWith('room:')) {
      const name = channel.slice('room:'.length);
      const row = s.getRoom.get(name);
      if (!row) return undefined;
      const member = s.getStanding.get(name, userId);
      return { kind: 'room', channel, room: toRoom(row), standing: member && toStanding(member), ...readStateOf(s, userId, channel) };
    }
    const row = s.getDm.get(channel);
    return row ? dmConversation(s, userId, toDm(row, s.dmUsers.all(channel))) : undefined;
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

function toRoom(row: RoomRow): RoomRecord {
  const visibility = row.visibility === 'private' ? 'private' : 'public';
  return { name: row.name, topic: row.topic, createdBy: row.created_by, createdAt: row.created_at, visibility };
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
  const peers: ChatUser[] = [];
  for (const id of dm.users) {
    const peer = id === userId ? undefined : s.getUser.get(id);
    if (peer) peers.push(toUser(peer));
  }
  return { kind: 'dm', channel: dm.channel, peers, ...readStateOf(s, userId, dm.channel) };
}
