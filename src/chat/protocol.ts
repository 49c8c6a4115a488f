/**
 * The chat conventions on top of the realtime protocol, shared by the server
 * and the web app (type-only imports on the web side).
 *
 * - Chat operations are `rpc` calls named `chat.*` (see {@link ChatRpc}).
 * - Conversations are channels: rooms are `room:<name>`, direct messages
 *   `dm:<userA>,<userB>` (ids ascending). Their publications are
 *   {@link ChannelEvent}s; all but `typing` are kept in the channel's stream,
 *   so a client that reconnects recovers edits, deletes and reactions too.
 * - Chat events are published by the server only, and carry no publisher
 *   `info`. A client's `publish` of `{"text": ...}` into a conversation is a
 *   `chat.send` by that client (its result is not returned: use `chat.send`
 *   for the message id); any other payload is refused with 107, so no one
 *   can forge a message, an edit or a deletion. Publications that carry
 *   `info` are not chat events (in `room:` and `dm:` channels that are no
 *   conversation, clients' publications pass as given): apps ignore them.
 * - Each user has `user:<id>`, where the server publishes {@link UserEvent}s:
 *   read positions (for the user's other devices) and new conversations.
 * - The durable state (messages with their edits, deletions and reactions,
 *   rooms, memberships, read positions) lives in the chat store; `chat.history`
 *   returns messages as they are now.
 */

/** Longest message text, in characters. */
export const MAX_MESSAGE_LENGTH = 4000;
/** Longest room name (the part after `room:`). */
export const MAX_ROOM_NAME_LENGTH = 40;
/** Longest room topic. */
export const MAX_TOPIC_LENGTH = 200;
/** Longest display name. */
export const MAX_DISPLAY_NAME_LENGTH = 40;
/** Room names: lower-case letters, digits, `-` and `_`, starting with a letter or digit. */
export const ROOM_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** The room every user is in at first. */
export const DEFAULT_ROOM = 'general';

/** A user as other users see them. Never carries an email. */
export interface ChatUser {
  id: string;
  name: string;
  /** CSS color, e.g. `#3a7bd5`. */
  color: string;
  /** MD5 hash of the user's email for Gravatar, when they gave one. */
  avatar?: string;
  /**
   * The account's username (unique, chosen at sign-up), shown next to the
   * display name so two people of one name can be told apart; absent for
   * guests and for users of tokens minted elsewhere.
   */
  username?: string;
}

export interface ChatMessage {
  id: string;
  channel: string;
  /** Position in the conversation: increases with every message; pages and read positions use it. */
  seq: number;
  author: ChatUser;
  /** Empty when deleted. */
  text: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  editedAt?: number;
  deleted?: boolean;
  /** Emoji → ids of the users who reacted with it, in reaction order. Empty emoji lists are left out. */
  reactions: Record<string, string[]>;
}

/** Publications in `room:` and `dm:` channels. */
export type ChannelEvent =
  | { type: 'message'; message: ChatMessage }
  | { type: 'edit'; id: string; text: string; editedAt: number }
  | { type: 'delete'; id: string }
  | { type: 'reactions'; id: string; reactions: Record<string, string[]> }
  /** Not stored: someone is typing now. Shown for a few seconds. */
  | { type: 'typing'; user: ChatUser };

/** Publications in `user:<id>` channels. */
export type UserEvent =
  /** The user read up to `seq` in `channel` (on any device). */
  | { type: 'read'; channel: string; seq: number }
  /** A conversation appeared for the user: a DM someone opened with them, or a room they joined elsewhere. */
  | { type: 'conversation'; conversation: Conversation }
  /** The user left a room (on any device). */
  | { type: 'left'; channel: string };

export interface Room {
  /** The name after `room:`. */
  name: string;
  channel: string;
  topic: string;
  createdBy: string;
  createdAt: number;
  /** Users who joined. */
  members: number;
  /** Connections subscribed now. */
  online: number;
  /** Whether the caller joined it. */
  joined: boolean;
}

/** A room the user joined or a DM they have, as the sidebar shows it. */
export interface Conversation {
  channel: string;
  kind: 'room' | 'dm';
  /** Room name, or the other user's name. */
  title: string;
  /** Rooms only. */
  topic?: string;
  /** DMs only: the other participant. */
  peer?: ChatUser;
  /** Seq of the newest message (0 when none). */
  lastSeq: number;
  /** Seq the user last read. */
  lastReadSeq: number;
  /** Messages from others after `lastReadSeq` that are not deleted. */
  unread: number;
  lastMessageAt?: number;
}

export interface Member extends ChatUser {
  online: boolean;
}

/** Most members one `chat.members` page holds. */
export const MAX_MEMBERS_PAGE = 100;
/** Members a `chat.members` page holds when the request names no `limit`. */
export const DEFAULT_MEMBERS_PAGE = 50;

/** `chat.members` request: one page of a conversation's member list. */
export interface MembersRequest {
  channel: string;
  /**
   * Only members whose display name or user id has a word starting with
   * this text, ignoring case (`"ann"` finds "Ann Lee" and "Joanne Annis";
   * `"lee"` finds "Ann Lee"). Blank: everyone.
   */
  query?: string;
  /** From the previous page's `cursor`, to get the next page. Opaque. */
  cursor?: string;
  /** 1–{@link MAX_MEMBERS_PAGE}; default {@link DEFAULT_MEMBERS_PAGE}. */
  limit?: number;
}

/** `chat.members` result. */
export interface MembersPage {
  /**
   * Online members first, then offline ones; each group sorted by name
   * (case-insensitive, then by id). Pages follow that order; a member whose
   * online state changes between two pages may appear on both or on neither.
   */
  members: Member[];
  /** Members online now among those matching the query (all members when there is none). */
  online: number;
  /** Members matching the query. */
  total: number;
  /** Present when there are more pages: pass it back as `cursor`. */
  cursor?: string;
  /**
   * Whether join and leave events are pushed in this channel now. When
   * false (a big room, or a DM) the list does not follow joins and leaves:
   * re-read the pages you show every 15–30 s instead.
   */
  live: boolean;
}

/** Every chat RPC method: its request and its result. */
export interface ChatRpc {
  /** Records the caller's profile and returns everything the sidebar needs. The caller joins `general` on first use. */
  'chat.bootstrap': { request: Record<string, never>; result: { user: ChatUser; conversations: Conversation[] } };
  'chat.rooms': { request: Record<string, never>; result: { rooms: Room[] } };
  'chat.createRoom': { request: { name: string; topic?: string }; result: { conversation: Conversation } };
  'chat.joinRoom': { request: { name: string }; result: { conversation: Conversation } };
  'chat.leaveRoom': { request: { name: string }; result: Record<string, never> };
  /** Opens (or returns) the DM with another user. */
  'chat.openDm': { request: { user: string }; result: { conversation: Conversation } };
  /**
   * A page of a room's members (users who joined it) or of a DM's two
   * participants, with online state, searchable by name or id.
   */
  'chat.members': { request: MembersRequest; result: MembersPage };
  /** Messages before `before` (seq; newest when absent), oldest first, at most `limit` (default 50, max 100). */
  'chat.history': {
    request: { channel: string; before?: number; limit?: number };
    result: { messages: ChatMessage[]; hasMore: boolean };
  };
  /** `nonce` makes a retried send idempotent: the same author and nonce return the first message. */
  'chat.send': { request: { channel: string; text: string; nonce?: string }; result: { message: ChatMessage } };
  'chat.edit': { request: { channel: string; id: string; text: string }; result: Record<string, never> };
  'chat.delete': { request: { channel: string; id: string }; result: Record<string, never> };
  /** Toggles the caller's reaction. */
  'chat.react': {
    request: { channel: string; id: string; emoji: string };
    result: { reactions: Record<string, string[]> };
  };
  'chat.typing': { request: { channel: string }; result: Record<string, never> };
  /** Moves the caller's read position forward (never back). */
  'chat.markRead': { request: { channel: string; seq: number }; result: Record<string, never> };
  /** Full-text search in the rooms and DMs the caller can read, newest first. */
  'chat.search': { request: { query: string; limit?: number }; result: { messages: ChatMessage[] } };
}

export type ChatMethod = keyof ChatRpc;

/** Who may join the chat through the web app (see the server's `authMode` setting). */
export type AuthMode = 'open' | 'invite' | 'guest' | 'token';

/** `GET /app/config`: what the web app needs before signing in. */
export interface AppConfig {
  authMode: AuthMode;
  /** `authMode === "guest"`, for apps written before `authMode`. */
  guestSignIn: boolean;
  /** With `authMode` `token`: where the app gets a token from the deployment's own backend (GET, with cookies). */
  tokenUrl?: string;
  maxMessageLength: number;
  /** No account exists yet: the next account created becomes the server's admin. */
  firstAccount: boolean;
  minPasswordLength: number;
  maxPasswordLength: number;
}

/** `POST /app/guest` request body. */
export interface GuestSignInRequest {
  /** Blank: a random name is chosen. */
  name?: string;
  /** Optional; only its Gravatar hash is kept and shown. */
  email?: string;
}

/** The signed-in person's own view of their account (`GET /app/account`). */
export interface AccountInfo {
  /** The user id (messages, DMs and memberships use it). */
  id: string;
  /** Absent for guests. */
  username?: string;
  displayName: string;
  color: string;
  /** Gravatar MD5 hash, when an email was given. */
  avatar?: string;
  role: 'admin' | 'member' | 'guest';
  /** Milliseconds since the Unix epoch; for a guest, when their session was used (guests have no account record). */
  createdAt: number;
}

/**
 * What a sign-in route answers (`/app/signup`, `/app/signin`, `/app/token`,
 * `/app/guest`, `/app/claim`, `/app/account/profile`), and the shape a
 * deployment's `tokenUrl` returns (`{user, token}`). The refresh token
 * travels in the HttpOnly cookie `parley_session`, never in the body.
 */
export interface SignInResult {
  user: ChatUser;
  /** Connection token for the realtime endpoint; renew it with `POST /app/token` before it expires. */
  token: string;
  /** Absent only in answers of a deployment's own `tokenUrl`. */
  account?: AccountInfo;
}
