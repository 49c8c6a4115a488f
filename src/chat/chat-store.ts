/**
 * Durable chat state: user profiles, rooms and memberships, direct-message
 * conversations, messages with their edits, deletions and reactions, read
 * positions, and guest sign-in sessions. The realtime stream of each channel
 * (offsets, recovery) lives in the core store; this one holds what the chat
 * shows, as it is now.
 */
import { MAX_DM_USERS, type ChatMessage, type ChatUser, type RoomRole } from './protocol.js';

export { MAX_DM_USERS };
export type { RoomRole } from './protocol.js';

/** How long a guest session lives without being used; each use starts the period again. */
export const GUEST_SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Distinct emoji one message can carry, so reactions cannot grow a message without bound. */
export const MAX_REACTION_EMOJI = 20;

/** Who may find and enter a room: anyone, or only its members (and admins). */
export type RoomVisibility = 'public' | 'private';

/** A room as created. */
export interface RoomRecord {
  /** The name after `room:`. */
  name: string;
  topic: string;
  /** User id of the creator; "" for rooms the server made. */
  createdBy: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  visibility: RoomVisibility;
}

/** A room to create; public unless said otherwise. */
export type NewRoom = Omit<RoomRecord, 'visibility'> & { visibility?: RoomVisibility };

/** Where a member stands in a room. */
export interface RoomStanding {
  role: RoomRole;
  /** Muted members read but may not write. */
  muted: boolean;
}

/** Everything the access gate needs to know about one user in one room, read at once. */
export interface RoomAccess {
  visibility: RoomVisibility;
  /** The user's standing when they are a member. */
  member: RoomStanding | undefined;
  banned: boolean;
}

/** A user banned from a room. */
export interface RoomBan {
  userId: string;
  /** Their profile, when one is stored. */
  user: ChatUser | undefined;
  /** Who banned them. */
  bannedBy: string;
  bannedAt: number;
}

/** A room with its member count, whether a given user joined it, and their standing there if they did. */
export interface RoomSummary extends RoomRecord {
  members: number;
  joined: boolean;
  standing: RoomStanding | undefined;
}

/** A direct-message conversation between two users, or a group DM of up to {@link MAX_DM_USERS}. */
export interface DmRecord {
  /** `dm:` and the user ids, ascending, joined by `,` (see {@link dmChannelFor}). */
  channel: string;
  /** The participants' ids, ascending and distinct: 2 for a 1:1 DM, up to {@link MAX_DM_USERS} for a group. Fixed for good. */
  users: readonly string[];
  createdAt: number;
}

/** Where a user stands in one conversation. */
export interface ReadState {
  /** Seq of the newest message (0 when none). */
  lastSeq: number;
  /** Seq the user read up to (0 when never). */
  lastReadSeq: number;
  /** Messages after `lastReadSeq` written by others and not deleted. */
  unread: number;
  /** When the newest message was written. */
  lastMessageAt?: number;
}

/** A conversation of a user: a room they joined or a DM they are in, with their read state. */
export type ConversationRecord =
  | ({ kind: 'room'; channel: string; room: RoomRecord; standing: RoomStanding | undefined } & ReadState)
  /** `peers`: the other participants, by id (one for a 1:1 DM). */
  | ({ kind: 'dm'; channel: string; peers: ChatUser[] } & ReadState);

/** A message to add. */
export interface NewMessage {
  channel: string;
  /** Snapshot of the author as they are now; later profile changes do not alter it. */
  author: ChatUser;
  text: string;
  createdAt: number;
  /** Makes a retried add return the first message (per author). */
  nonce?: string;
}

/** Why a change to a message was not made. */
export type MessageRefusal = 'not-found' | 'not-author' | 'deleted' | 'too-many-reactions';

/** The outcome of editing, deleting or reacting to a message. */
export type MessageChange = { ok: true; message: ChatMessage } | { ok: false; reason: MessageRefusal };

/** One page of a conversation. */
export interface MessagePage {
  /** Oldest first. */
  messages: ChatMessage[];
  /** Whether older messages exist before the first one returned. */
  hasMore: boolean;
}

/** The channel of the DM between two users: `dm:<a>,<b>` with the ids ascending. */
export function dmChannelOf(a: string, b: string): string {
  return dmChannelFor([a, b]);
}

/** The channel of the DM among `users` (any order, repeats ignored): `dm:` and the distinct ids ascending, joined by `,`. */
export function dmChannelFor(users: readonly string[]): string {
  return `dm:${dmUsersOf(users).join(',')}`;
}

/** Distinct ids, ascending (by UTF-16 code units, as channel names are compared). */
export function dmUsersOf(users: readonly string[]): string[] {
  return [...new Set(users)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** What a user's stored record says beside their profile. */
export interface UserDetails {
  /** Their account's username, as recorded when last seen; absent for users without an account. */
  username?: string;
  /** When they were last seen (bootstrap or chat activity, recorded at most about once a minute), ms since the epoch. */
  lastSeenAt: number;
}

/** A user as the people directory lists them. */
export interface DirectoryEntry {
  user: ChatUser;
  username?: string;
  /** Where this entry sorts: pass it back as `after` for the next page. */
  key: DirectoryKey;
}

/** A place in the directory's order: by lower-cased display name, then id. */
export interface DirectoryKey {
  name: string;
  id: string;
}

/** How {@link ChatStore.searchUsers} looks. */
export interface DirectorySearch {
  /** Folded words (see `people-search.ts`); each must start a word of the name or username. Empty: everyone. */
  words: readonly string[];
  /** Only entries after this one. */
  after?: DirectoryKey;
  limit: number;
  /** Guests (see {@link isGuestId}) without an account not seen since this time are left out; 0 keeps all. */
  guestsSeenSince: number;
}

/** Prefix of the ids of guests who signed in through the web app (`POST /app/guest`). */
export const GUEST_ID_PREFIX = 'g_';

/** Whether an id is a guest's (a guest who claimed an account keeps it, and has a username). */
export function isGuestId(id: string): boolean {
  return id.startsWith(GUEST_ID_PREFIX);
}

/**
 * Durable chat state. Every implementation runs
 * `test/contracts/chat-store-contract.ts` and keeps these guarantees:
 *
 * - **Durability.** A write is durable when its promise resolves: it is
 *   there after `close()` and a new store opened on the same storage.
 *   `close()` waits for writes already called.
 * - **Order.** Writes take effect in the order they were called, and their
 *   promises settle in that order (so a caller that publishes each result as
 *   it resolves publishes in write order). A read reflects every write whose
 *   promise resolved before the read was called.
 * - **Atomicity.** Each write applies entirely or not at all; a write that
 *   fails leaves no trace and does not affect others.
 * - **Profiles** hold id, name, color and an optional avatar hash; an avatar
 *   that is not a 32-digit hex MD5 is refused with a `TypeError`, so an
 *   email can never be stored as one.
 * - **Messages.** Each channel's `seq` starts at 1 and goes up by exactly 1
 *   per added message; deleted messages keep their seq. Ids are random,
 *   url-safe and unique across channels. The author is a snapshot. A
 *   deleted message has `deleted: true`, empty text, no reactions, and
 *   cannot be edited or reacted to. Reactions list user ids per emoji in
 *   the order they reacted; an emoji whose last reaction is removed
 *   disappears.
 * - **Idempotency.** Adding with a nonce an author already used returns the
 *   first message with `created: false` and adds nothing.
 * - **Member versions.** A room's {@link ChatStore.membersVersion} goes up
 *   with every durable join, leave, and profile change of a member, whichever
 *   process (or node) made it, so a reader can keep a member list cached and
 *   re-read it only when the version moved.
 * - **Read positions** only move forward and never past the channel's last
 *   seq. Unread counts are messages after the position, by others, not deleted.
 * - **Search** finds messages containing every word of a query (each word a
 *   prefix, case and diacritics ignored), newest first, only in the given
 *   channels, never deleted ones, and reflects edits. Any query text is
 *   safe: it never fails and is never read as search syntax.
 * - **Rooms and moderation.** A room is public unless created private.
 *   `listRooms` shows a private room only to its members (and to callers
 *   who ask for every room). A member's standing (role, muted) stays until
 *   they leave. A ban removes the membership in the same write, and while
 *   it lasts the user cannot join (`joinRoom` adds nothing). A message
 *   removed by a moderator is deleted like any other (its seq stays) and
 *   carries `removedByModerator`.
 * - **DMs** have fixed participants: 2 to {@link MAX_DM_USERS} distinct
 *   users with stored profiles; one DM per set of users, whatever the order
 *   they are named in.
 * - **People.** A user's last-seen time only moves forward. The directory
 *   ({@link ChatStore.searchUsers}) matches each query word as the start
 *   of a word of the display name or username (case and diacritics
 *   ignored), sorted by lower-cased name then id.
 * - **Guest expiry** removes from every room the guests without an
 *   account (ids starting {@link GUEST_ID_PREFIX}, no username) not seen
 *   since a time; their messages, DMs and profiles stay.
 * - **Guest sessions** are found by the SHA-256 hex of their refresh token
 *   (the token itself never reaches the store) and expire
 *   {@link GUEST_SESSION_TTL_MS} after their last use.
 */
export interface ChatStore {
  /** Opens storage, creating or migrating its schema. */
  open(): Promise<void>;
  /** Makes every write already called durable, then releases storage. Idempotent. */
  close(): Promise<void>;

  // ---- users ------------------------------------------------------------
  /** Records a profile, replacing the previous one of the same id. */
  upsertUser(user: ChatUser, now: number): Promise<void>;
  getUser(id: string): Promise<ChatUser | undefined>;
  /** Resolves true the first time it is called for a user id, false ever after. */
  claimFirstVisit(userId: string): Promise<boolean>;

  // ---- rooms ------------------------------------------------------------
  /** Creates a room (public by default); resolves false (and changes nothing) when the name is taken. */
  createRoom(room: NewRoom): Promise<boolean>;
  getRoom(name: string): Promise<RoomRecord | undefined>;
  /**
   * Rooms by name, with member counts and whether `userId` joined them:
   * every public room and the private rooms `userId` is a member of, or
   * every room with `includePrivate` (for admins).
   */
  listRooms(userId: string, options?: { includePrivate?: boolean }): Promise<RoomSummary[]>;
  /**
   * Adds a member with a role (`member` by default); resolves false, adding
   * nothing, when they already were one or are banned from the room. A new
   * member's read position moves up to the room's newest message, so they
   * start with nothing unread. Rejects when the room does not exist or the
   * user has no stored profile.
   */
  joinRoom(name: string, userId: string, now: number, role?: RoomRole): Promise<boolean>;
  /** Removes a member; resolves false when they were not one. */
  leaveRoom(name: string, userId: string): Promise<boolean>;
  /** Profiles of a room's members, in the order they joined. */
  roomMembers(name: string): Promise<ChatUser[]>;
  /**
   * A counter that goes up with every change to the room's member list or
   * to a member's profile (0 for a room that does not exist). A member list
   * read after this call is at least as new as the version it returned.
   */
  membersVersion(name: string): Promise<number>;

  // ---- room moderation -----------------------------------------------------
  /** The room's visibility and the user's membership, standing and ban, in one read; undefined for no such room. */
  roomAccess(name: string, userId: string): Promise<RoomAccess | undefined>;
  /** The standings of members who are not plain members: owners, moderators, and whoever is muted. */
  memberStandings(name: string): Promise<Map<string, RoomStanding>>;
  /** Changes a member's role and/or muted flag; resolves false (changing nothing) when they are not a member. */
  setStanding(name: string, userId: string, change: Partial<RoomStanding>): Promise<boolean>;
  /**
   * Bans a user from a room and removes their membership in the same write.
   * `banned` is false when they were banned already (the first ban stays);
   * `wasMember` says whether a membership was removed.
   */
  banFromRoom(name: string, ban: { userId: string; bannedBy: string; bannedAt: number }): Promise<{ banned: boolean; wasMember: boolean }>;
  /** Lifts a ban; resolves false when there was none. The user is not re-added. */
  unbanFromRoom(name: string, userId: string): Promise<boolean>;
  /** The room's bans, newest first. */
  roomBans(name: string): Promise<RoomBan[]>;

  // ---- direct messages --------------------------------------------------
  /**
   * Opens the DM between two different users who both have stored profiles
   * (resolves undefined otherwise); opening it again returns the same one
   * with `created: false`, whichever user opens it.
   */
  openDm(userA: string, userB: string, now: number): Promise<{ dm: DmRecord; created: boolean } | undefined>;
  /**
   * Opens the DM among 2 to {@link MAX_DM_USERS} distinct users who all have
   * stored profiles (resolves undefined otherwise, repeats counting once);
   * opening it again returns the same one with `created: false`, whoever
   * opens it and in whatever order the users are named.
   */
  openGroup(userIds: readonly string[], now: number): Promise<{ dm: DmRecord; created: boolean } | undefined>;
  getDm(channel: string): Promise<DmRecord | undefined>;

  // ---- people -----------------------------------------------------------
  /**
   * Records that a user with a stored profile was seen at `at` (moving their
   * last-seen time forward only) and their account's username (`null`: they
   * have no account, and the username their profile was recorded with, if
   * any, stays). Does nothing for a user without a profile.
   */
  recordSeen(userId: string, seen: { at: number; username: string | null }): Promise<void>;
  /** Usernames and last-seen times of those of `userIds` with stored profiles. */
  userDetails(userIds: readonly string[]): Promise<Map<string, UserDetails>>;
  /** One page of the people directory (see {@link DirectorySearch}), at most `limit` entries. */
  searchUsers(search: DirectorySearch): Promise<DirectoryEntry[]>;
  /**
   * Removes the guests without an account who were not seen since
   * `seenBefore` (exclusive) from every room they joined. Idempotent.
   * @returns the rooms whose member lists changed, by name.
   */
  expireGuests(seenBefore: number): Promise<string[]>;

  // ---- messages ---------------------------------------------------------
  addMessage(input: NewMessage): Promise<{ message: ChatMessage; created: boolean }>;
  getMessage(channel: string, id: string): Promise<ChatMessage | undefined>;
  /** Replaces the text of a message of `userId` and sets `editedAt`. */
  editMessage(channel: string, id: string, userId: string, text: string, editedAt: number): Promise<MessageChange>;
  /** Deletes a message of `userId`: its text and reactions are cleared, its seq stays. */
  deleteMessage(channel: string, id: string, userId: string): Promise<MessageChange>;
  /**
   * Deletes any message of a channel on a moderator's authority, like
   * {@link deleteMessage} but whoever wrote it; the message then carries
   * `removedByModerator`. Refuses a missing or already deleted message.
   */
  removeMessage(channel: string, id: string, moderatorId: string): Promise<MessageChange>;
  /**
   * Adds `userId`'s reaction with `emoji`, or removes it when present.
   * Refuses a new emoji beyond {@link MAX_REACTION_EMOJI} on one message.
   */
  toggleReaction(channel: string, id: string, userId: string, emoji: string): Promise<MessageChange>;
  /** Up to `limit` messages with seq below `before` (all when absent), oldest first. */
  history(channel: string, options: { before?: number; limit: number }): Promise<MessagePage>;
  /** Messages matching `query` in `channels`, newest first, at most `limit`. */
  search(query: string, options: { channels: readonly string[]; limit: number }): Promise<ChatMessage[]>;

  // ---- read state -------------------------------------------------------
  /**
   * Moves the user's read position in a channel forward to `seq` (capped at
   * the channel's last seq). Resolves the position after the call and
   * whether it moved.
   */
  markRead(userId: string, channel: string, seq: number): Promise<{ seq: number; moved: boolean }>;
  readState(userId: string, channel: string): Promise<ReadState>;
  /** The rooms the user joined (by name) then their DMs (newest first), with read states. */
  conversationsOf(userId: string): Promise<ConversationRecord[]>;
  /** One conversation of the user: any existing room, or a DM they are in; undefined otherwise. */
  conversationOf(userId: string, channel: string): Promise<ConversationRecord | undefined>;

  // ---- guest sessions ---------------------------------------------------
  /** Records a guest session for the SHA-256 hex of a refresh token; also drops expired sessions. */
  createGuestSession(tokenHash: string, user: ChatUser, now: number): Promise<void>;
  /** The session's user when it exists and has not expired, marking it used at `now`. */
  useGuestSession(tokenHash: string, now: number): Promise<ChatUser | undefined>;
  /** Ends a session; resolves false when there was none. */
  revokeGuestSession(tokenHash: string): Promise<boolean>;
}
