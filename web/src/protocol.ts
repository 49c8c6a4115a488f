/**
 * The chat contract shared with the server (`src/chat/protocol.ts`), re-exported
 * so the app imports it from one place.
 */
import type { ChatUser } from '../../src/chat/protocol';

export type {
  AccountInfo,
  AdminAccountInfo as AdminAccount,
  CreatedInvite,
  DeviceSession,
  InviteInfo,
  ProfileUpdate,
  SignUpRequest,
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

