/**
 * The chat contract shared with the server (`src/chat/protocol.ts`), re-exported
 * so the app imports it from one place, and the accounts API (`/app/*`) the app
 * speaks: `docs/accounts-api.md`.
 */
import type { AppConfig as ServerAppConfig, ChatUser } from '../../src/chat/protocol';

export type {
  ChannelEvent,
  ChatMessage,
  ChatMethod,
  ChatRpc,
  ChatUser,
  Conversation,
  GuestSignInRequest,
  Member,
  MembersPage,
  MembersRequest,
  Room,
  UserEvent,
} from '../../src/chat/protocol';
export {
  DEFAULT_ROOM,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  MAX_TOPIC_LENGTH,
  ROOM_NAME_PATTERN,
} from '../../src/chat/protocol';

/** A user with the account's username, when they have one (guests have none). */
export interface AppUser extends ChatUser {
  username?: string;
}

/** Who may join: `open` sign-up, sign-up by `invite` only, `guest` sign-in, or tokens from the deployment's `token` URL. */
export type AuthMode = 'open' | 'invite' | 'guest' | 'token';

/** `GET /app/config`: what the web app needs before signing in. */
export interface AppConfig extends ServerAppConfig {
  authMode: AuthMode;
  /** No account exists yet: the next sign-up becomes the server's admin. */
  firstAccount: boolean;
  minPasswordLength: number;
  maxPasswordLength: number;
}

/** `admin` runs the server; `member` chats; `guest` signed in without an account. */
export type AccountRole = 'admin' | 'member' | 'guest';

/** `GET /app/account`: the signed-in user's own account. */
export interface AccountInfo {
  id: string;
  /** Absent for guests. */
  username?: string;
  displayName: string;
  color: string;
  /** Gravatar MD5 hash. */
  avatar?: string;
  role: AccountRole;
  createdAt: number;
}

/**
 * `POST /app/signup`, `/app/signin`, `/app/token`, `/app/guest`, `/app/claim`
 * and `/app/account/profile`. The refresh token travels in the HttpOnly
 * `parley_session` cookie only; the app never sees it.
 */
export interface SignInResult {
  user: AppUser;
  /** Connection token for the realtime endpoint (10 minutes). */
  token: string;
  account: AccountInfo;
}

/** What a deployment's `tokenUrl` returns (`token` mode). */
export interface ExternalSignInResult {
  user: AppUser;
  token: string;
}

/** `POST /app/signup` request body. */
export interface SignUpRequest {
  username: string;
  password: string;
  displayName?: string;
  /** The code from an invite link (`invite` mode). */
  invite?: string;
}

/** One signed-in device, in `GET /app/account/sessions`. */
export interface DeviceSession {
  /** Opaque; `DELETE /app/account/sessions/:id` signs it out. */
  id: string;
  device: string;
  createdAt: number;
  lastUsedAt: number;
  /** The session of this request. */
  current: boolean;
}

/** `POST /app/account/profile` request body: only the fields to change. */
export interface ProfileUpdate {
  displayName?: string;
  color?: string;
  /** "" removes the Gravatar. Only its MD5 hash is kept. */
  email?: string;
}

/** An account as admins see it, in `GET /app/admin/accounts`. */
export interface AdminAccount extends AccountInfo {
  deactivatedAt?: number;
}

/** An invitation, in `GET /app/admin/invites`. */
export interface InviteInfo {
  id: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number;
  uses: number;
  /** The admin's account id. */
  createdBy: string;
}

/** `POST /app/admin/invites` response: the code and link are shown once. */
export interface CreatedInvite {
  invite: InviteInfo;
  code: string;
  /** `<origin>/?invite=<code>` */
  url: string;
}
