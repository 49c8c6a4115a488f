/**
 * The rules of chat rows shared by every {@link ChatStore} implementation:
 * how stored rows become users, DMs and messages, which changes to a message
 * are refused, and how a reaction toggles. Stores convert their driver's
 * rows to these shapes (numbers as numbers) and keep the rules here.
 */
import { MAX_REACTION_EMOJI, type ChatStore, type DmRecord, type MessageChange } from './chat-store.js';
import { isAvatarHash } from './profile.js';
import type { ChatMessage, ChatUser } from './protocol.js';

/** A `users` row. */
export interface UserRow {
  id: string;
  name: string;
  color: string;
  avatar: string | null;
  /** Absent from rows read without it (guest sessions); null for users without an account. */
  username?: string | null;
}

/** A `dms` row. */
export interface DmRow {
  channel: string;
  user_a: string;
  user_b: string;
  created_at: number;
}

/** A `messages` row. */
export interface MessageRow {
  pk: number;
  id: string;
  channel: string;
  seq: number;
  author_id: string;
  author_name: string;
  author_color: string;
  author_avatar: string | null;
  author_username: string | null;
  text: string;
  created_at: number;
  edited_at: number | null;
  /** 1 / true when deleted. */
  deleted: number | boolean;
  /** JSON: emoji -> user ids in reaction order. */
  reactions: string;
}

/** The error for a profile that could carry anything but a Gravatar hash as avatar (see {@link ChatStore}). */
export function userProblem(user: ChatUser): TypeError | undefined {
  if (user.avatar !== undefined && !isAvatarHash(user.avatar)) return new TypeError('avatar must be a 32-digit hex MD5 hash');
  return undefined;
}

/** Why `userId` may not edit or delete the message in `row`, if they may not. */
export function refuseChange(row: MessageRow | undefined, userId: string): MessageChange | undefined {
  if (!row) return { ok: false, reason: 'not-found' };
  if (row.author_id !== userId) return { ok: false, reason: 'not-author' };
  if (row.deleted) return { ok: false, reason: 'deleted' };
  return undefined;
}

/**
 * The reactions JSON after `userId` toggles `emoji` on the message in
 * `row`, or the refusal (the message is missing or deleted, or carries
 * {@link MAX_REACTION_EMOJI} emoji already).
 */
export function toggledReactions(row: MessageRow | undefined, userId: string, emoji: string): { json: string } | MessageChange {
  if (!row) return { ok: false, reason: 'not-found' };
  if (row.deleted) return { ok: false, reason: 'deleted' };
  // A Map keeps first-reaction order and is safe for any key, `__proto__` included.
  const reactions = new Map(Object.entries(JSON.parse(row.reactions) as Record<string, string[]>));
  const users = reactions.get(emoji);
  if (users?.includes(userId)) {
    const rest = users.filter((user) => user !== userId);
    if (rest.length > 0) reactions.set(emoji, rest);
    else reactions.delete(emoji);
  } else if (users) {
    users.push(userId);
  } else {
    if (reactions.size >= MAX_REACTION_EMOJI) return { ok: false, reason: 'too-many-reactions' };
    reactions.set(emoji, [userId]);
  }
  return { json: JSON.stringify(Object.fromEntries(reactions)) };
}

export function toUser(row: UserRow): ChatUser {
  const user: ChatUser = { id: row.id, name: row.name, color: row.color };
  if (row.avatar !== null) user.avatar = row.avatar;
  if (row.username != null) user.username = row.username;
  return user;
}

export function toDm(row: DmRow): DmRecord {
  return { channel: row.channel, users: [row.user_a, row.user_b] as const, createdAt: row.created_at };
}

export function toMessage(row: MessageRow): ChatMessage {
  const author: ChatUser = { id: row.author_id, name: row.author_name, color: row.author_color };
  if (row.author_avatar !== null) author.avatar = row.author_avatar;
  if (row.author_username !== null) author.username = row.author_username;
  const message: ChatMessage = {
    id: row.id,
    channel: row.channel,
    seq: row.seq,
    author,
    text: row.deleted ? '' : row.text,
    createdAt: row.created_at,
    reactions: JSON.parse(row.reactions) as Record<string, string[]>,
  };
  if (row.edited_at !== null) message.editedAt = row.edited_at;
  if (row.deleted) message.deleted = true;
  return message;
}
