/**
 * The chat contract shared with the server (`src/chat/protocol.ts`), re-exported
 * so the app imports it from one place, and the shapes of the account routes
 * that live in server files the app cannot import (`docs/accounts-api.md`).
 */
import type { ChatUser } from '../../src/chat/protocol';

export type {
  AccountInfo,
  AdminRpc,
  AuditEntryView,
  ModerationAction,
  RoomBanView,
  RoomRole,
  AppConfig,
  AuthMode,
  ChannelEvent,
  ChatMessage,
  ChatMethod,
  ChatRpc,
  ChatUser,
  Conversation,
  DirectoryUser,
  GuestSignInRequest,
  Member,
  MembersPage,
  MembersRequest,
  Room,
  SignInResult,
  UserEvent,
  UsersPage,
} from '../../src/chat/protocol';
export {
  MAX_ADD_MEMBERS,
  DEFAULT_ROOM,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_DM_USERS,
  MAX_MESSAGE_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  MAX_TOPIC_LENGTH,
  ROOM_NAME_PATTERN,
} from '../../src/chat/protocol';

/** What a deployment's `tokenUrl` returns (`token` mode). */
export interface ExternalSignInResult {
  user: ChatUser;
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

/** An account as admins see it (`GET /app/admin/accounts`, and the answer of role and (de)activation changes). */
export interface AdminAccount {
  id: string;
  username: string;
  displayName: string;
  role: 'admin' | 'member';
  /** When an admin deactivated it; absent while it is active. */
  deactivatedAt?: number;
  createdAt: number;
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
