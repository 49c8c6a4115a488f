/**
 * The chat conventions on top of the realtime protocol, shared by the server
 * and the web app (type-only imports on the web side).
 *
 * - Chat operations are `rpc` calls named `chat.*` (see {@link ChatRpc}).
 * - Conversations are channels: rooms are `room:<name>`, direct messages
 *   `dm:<userA>,<userB>` (ids ascending), group DMs `dm:<a>,<b>,<c>…`
 *   (up to {@link MAX_DM_USERS} ids, ascending). Their publications are
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
/** Most people in one DM, its opener included: a group DM is 3 to this many. */
export const MAX_DM_USERS = 8;
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
  /** Set when a moderator (not the author) deleted the message. */
  removedByModerator?: boolean;
  /** Emoji → ids of the users who reacted with it, in reaction order. Empty emoji lists are left out. */
  reactions: Record<string, string[]>;
}

/** A member's role in a room: the creator owns it; owners (and admins) appoint moderators. */
export type RoomRole = 'owner' | 'moderator' | 'member';

/** What `chat.moderate` does to a member of a room. */
export type ModerationAction = 'remove' | 'mute' | 'unmute' | 'ban' | 'unban' | 'setRole';

/** A change to a room's members that member lists follow (see {@link ChannelEvent}). */
export type MemberChange = 'added' | 'removed' | 'banned' | 'unbanned' | 'muted' | 'unmuted' | 'role';

/** Publications in `room:` and `dm:` channels. */
export type ChannelEvent =
  | { type: 'message'; message: ChatMessage }
  | { type: 'edit'; id: string; text: string; editedAt: number }
  /** `byModerator`: a moderator removed someone else's message. */
  | { type: 'delete'; id: string; byModerator?: boolean }
  /** A moderator changed a member (or people were added to a private room); `role` is the member's role after it. */
  | { type: 'member'; change: MemberChange; user: ChatUser; role?: RoomRole }
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
  | { type: 'left'; channel: string }
  /** A moderator removed or banned the user from a room: the app drops it and says so. */
  | { type: 'removed'; channel: string; reason: 'removed' | 'banned' }
  /** The user's role or mute in a room changed. */
  | { type: 'standing'; channel: string; role: RoomRole; muted: boolean };

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
  /** Private rooms are listed only to their members (and to admins, who may join them). */
  private: boolean;
  /** Joined rooms only: the caller's role there. */
  role?: RoomRole;
  /** Joined rooms only: whether the caller is muted there. */
  muted?: boolean;
}

/** A room the user joined or a DM they have, as the sidebar shows it. */
export interface Conversation {
  channel: string;
  kind: 'room' | 'dm';
  /** Room name, or the other participants' names (alphabetically, ", "-separated). */
  title: string;
  /** Rooms only. */
  topic?: string;
  /** Rooms only: whether the room is private. */
  private?: boolean;
  /** Rooms only: the caller's role in the room. */
  role?: RoomRole;
  /** Rooms only: whether the caller is muted (reads, cannot write). */
  muted?: boolean;
  /** 1:1 DMs only: the other participant. */
  peer?: ChatUser;
  /** DMs only (1:1 and group): the other participants, by id. */
  peers?: ChatUser[];
  /** Seq of the newest message (0 when none). */
  lastSeq: number;
  /** Seq the user last read. */
  lastReadSeq: number;
  /** Messages from others after `lastReadSeq` that are not deleted. */
  unread: number;
  lastMessageAt?: number;
}

/** A member of a conversation as `chat.members` lists them. */
export interface Member extends ChatUser {
  /** Connected to the conversation now (never true for a deactivated member). */
  online: boolean;
  /** `member` in DMs. */
  role: RoomRole;
  muted: boolean;
  /** A guest without an account. */
  guest?: true;
  /** Their account was deactivated: still a member, listed last. */
  deactivated?: true;
}

/** Most users one `chat.addMembers` call adds. */
export const MAX_ADD_MEMBERS = 50;

/** A ban in `chat.bans`. */
export interface RoomBanView {
  user: ChatUser;
  bannedBy: ChatUser;
  bannedAt: number;
}

/** An entry of `admin.audit`, with the names of the people in it. */
export interface AuditEntryView {
  id: number;
  at: number;
  /** e.g. `member.ban`, `message.delete`, `account.deactivate`. */
  action: string;
  /** `id: ""` for the server itself. */
  actor: { id: string; name: string };
  target?: { id: string; name: string };
  channel?: string;
  detail?: string;
}

/** A person the caller can start a conversation with, as `chat.users` lists them. */
export interface DirectoryUser extends ChatUser {
  username?: string;
  /** A guest without an account. */
  guest?: true;
}

/** Most people one `chat.users` page holds. */
export const MAX_USERS_PAGE = 50;
/** People a `chat.users` page holds when the request names no `limit`. */
export const DEFAULT_USERS_PAGE = 20;

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
   * Online members first, then offline ones, then deactivated ones; each
   * group sorted by name (case-insensitive, then by id). Pages follow that
   * order; a member whose online state changes between two pages may appear
   * on both or on neither.
   */
  members: Member[];
  /** Members online now (deactivated ones aside) among those matching the query (all members when there is none). */
  online: number;
  /** Members with deactivated accounts among those matching the query; the offline ones are `total - online - deactivated`. */
  deactivated: number;
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

/** `chat.users` request. */
export interface UsersRequest {
  /** Blank: everyone. */
  query?: string;
  /** 1–{@link MAX_USERS_PAGE}; default {@link DEFAULT_USERS_PAGE}. */
  limit?: number;
  /** From the previous page's `cursor`. Opaque. */
  cursor?: string;
}

/** `chat.users` result. */
export interface UsersPage {
  users: DirectoryUser[];
  /** Present when there may be more: pass it back as `cursor`. */
  cursor?: string;
}

/** Every chat RPC method: its request and its result. */
export interface ChatRpc {
  /** Records the caller's profile and returns everything the sidebar needs. The caller joins `general` on first use. */
  'chat.bootstrap': {
    request: Record<string, never>;
    /** `admin`: the caller is a server admin now (the app shows the audit log and moderation in every room). */
    result: { user: ChatUser; conversations: Conversation[]; admin: boolean };
  };
  'chat.rooms': { request: Record<string, never>; result: { rooms: Room[] } };
  /** `private`: listed only to members, who add people with `chat.addMembers`. */
  'chat.createRoom': { request: { name: string; topic?: string; private?: boolean }; result: { conversation: Conversation } };
  /**
   * Adds people (up to {@link MAX_ADD_MEMBERS}) to a room: any member of a
   * private room, or an admin. Users already in it are skipped; banned ones
   * are refused. Resolves with the ids added.
   */
  'chat.addMembers': { request: { channel: string; users: string[] }; result: { added: string[] } };
  /**
   * Moderates a member of a room: owners, moderators and admins; only owners
   * and admins grant or take back `moderator` (`setRole` with `role`), and
   * only admins act on an owner.
   */
  'chat.moderate': {
    request: { channel: string; action: ModerationAction; user: string; role?: 'moderator' | 'member' };
    result: Record<string, never>;
  };
  /** The room's bans, newest first (owners, moderators and admins). */
  'chat.bans': { request: { channel: string }; result: { bans: RoomBanView[] } };
  'chat.joinRoom': { request: { name: string }; result: { conversation: Conversation } };
  'chat.leaveRoom': { request: { name: string }; result: Record<string, never> };
  /** Opens (or returns) the DM with another user. */
  'chat.openDm': { request: { user: string }; result: { conversation: Conversation } };
  /**
   * Opens (or returns) the group DM of the caller and 2 to 7 others (all
   * existing, active users). Its people are fixed: adding someone is a new
   * conversation. A new one is announced to everyone in it on `user:<id>`.
   */
  'chat.openGroup': { request: { users: string[] }; result: { conversation: Conversation } };
  /**
   * People the caller can start a conversation with (accounts, and guests
   * seen within `guestExpiry`; not deactivated ones, not the caller), by
   * name; `query` matches the start of any word of the display name or
   * username, ignoring case and accents.
   */
  'chat.users': { request: UsersRequest; result: UsersPage };
  /**
   * A page of a room's members (users who joined it) or of a DM's
   * participants, with online state, searchable by name, username or id.
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
  /** The author deletes their message; a room's owners, moderators and admins delete anyone's. */
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

/** The request body of chat RPC method `M`. */
export type ChatRpcRequest<M extends keyof ChatRpc> = ChatRpc[M]['request'];
/** What a handler of chat RPC method `M` resolves with. */
export type ChatRpcResult<M extends keyof ChatRpc> = Promise<ChatRpc[M]['result']>;

export type ChatMethod = keyof ChatRpc;

/** RPC methods for server admins only (103 for anyone else). */
export interface AdminRpc {
  /** The audit log, newest first: entries with id below `before`, at most `limit` (default 50, max 200). */
  'admin.audit': { request: { before?: number; limit?: number }; result: { entries: AuditEntryView[]; hasMore: boolean } };
}

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

/** `POST /app/signup` request body. */
export interface SignUpRequest {
  username: string;
  password: string;
  displayName?: string;
  /** The code from an invite link (`invite` mode). */
  invite?: string;
}

/** `POST /app/account/profile` request body: only the fields to change. */
export interface ProfileUpdate {
  displayName?: string;
  color?: string;
  /** "" removes the Gravatar. Only its MD5 hash is kept. */
  email?: string;
}

/** One device signed in to the account, as `GET /app/account/sessions` lists it. */
export interface DeviceSession {
  /** The session's short id (also the `sid` of its connection tokens), never its token or token hash; `DELETE /app/account/sessions/:id` signs it out. */
  id: string;
  device: string;
  createdAt: number;
  lastUsedAt: number;
  /** The session of the request itself. */
  current: boolean;
}

/** An account as admins see it (`GET /app/admin/accounts`, and the answer of role and (de)activation changes). */
export interface AdminAccountInfo {
  id: string;
  username: string;
  displayName: string;
  role: 'admin' | 'member';
  /** When an admin deactivated it (ms since the Unix epoch); absent while it is active. */
  deactivatedAt?: number;
  createdAt: number;
}

/** An invitation as admins see it (`GET /app/admin/invites`); its code is shown only once, when it is made. */
export interface InviteInfo {
  /** A short public id of the invitation (derived from its code's hash; neither reveals the code). */
  id: string;
  /** The admin's account id. */
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number;
  uses: number;
}

/** `POST /app/admin/invites` answer: the code and link are shown once. */
export interface CreatedInvite {
  invite: InviteInfo;
  code: string;
  /** `<origin>/?invite=<code>` */
  url: string;
}
