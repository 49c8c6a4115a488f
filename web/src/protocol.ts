/**
 * The chat contract shared with the server (`src/chat/protocol.ts`), re-exported
 * so the app imports it from one place.
 */
import type { ChatRpc as SharedChatRpc, Member } from '../../src/chat/protocol';

export type {
  AppConfig,
  ChannelEvent,
  ChatMessage,
  ChatUser,
  Conversation,
  GuestSignInRequest,
  Member,
  MembersPage,
  MembersRequest,
  Room,
  SignInResult,
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

/** `chat.members` request: one page of a conversation's members. */
export interface MembersRequest {
  channel: string;
  /** Case-insensitive match on display name or user id. */
  query?: string;
  /** Opaque, from the previous page's result. */
  cursor?: string;
  /** 1–100; the server's default is 50. */
  limit?: number;
}

/** `chat.members` result. */
export interface MembersPage {
  /** Online first, then offline; each group by name. */
  members: Member[];
  /** Users online among those matching. */
  online: number;
  /** Members matching. */
  total: number;
  /** Present when there are more. */
  cursor?: string;
  /** Whether join and leave events are pushed for this channel now (false in a big room). */
  live: boolean;
}

/** Every chat RPC method the app calls, with `chat.members` paged. */
export type ChatRpc = Omit<SharedChatRpc, 'chat.members'> & {
  'chat.members': { request: MembersRequest; result: MembersPage };
};
export type ChatMethod = keyof ChatRpc;
