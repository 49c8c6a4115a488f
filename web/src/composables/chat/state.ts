/**
 * The chat state shared by the chat modules, and the helpers that keep its
 * message lists ordered and free of duplicates.
 */
import { reactive } from 'vue';
import { replaceShortcodes } from '../../lib/emoji';
import type { ChatMessage, ChatUser, Conversation } from '../../protocol';

/**
 * A message written but not yet confirmed by the server, in the outbox
 * (`outbox.ts`). `waiting`: queued until the connection is back; `sending`: a
 * `chat.send` with its nonce is in flight; `failed`: the server refused it for
 * good (`error` says why) and it waits for the user to retry or edit it.
 */
export interface PendingMessage {
  nonce: string;
  text: string;
  createdAt: number;
  status: 'waiting' | 'sending' | 'failed';
  error?: string;
  /** My own message with this text arrived live before the send's reply: hide this copy meanwhile. */
  echoed?: boolean;
}

export interface TypingEntry {
  user: ChatUser;
  until: number;
}

export interface ChannelState {
  channel: string;
  /** Oldest first, ordered by seq, unique by id. */
  messages: ChatMessage[];
  /** The latest page has been fetched. */
  loaded: boolean;
  loading: boolean;
  loadingOlder: boolean;
  /** Older messages exist before `messages[0]`. */
  hasMore: boolean;
  error: string;
  pending: PendingMessage[];
  typing: Record<string, TypingEntry>;
  /** The composer's unsent text, kept when switching conversations. */
  draft: string;
  /** Read position when the conversation was opened: the "new messages" divider goes after it. */
  unreadMarkerSeq: number | null;
  /** The message being edited inline. */
  editingId: string | null;
  /**
   * Seqs of loaded messages preceded by messages that are not loaded (after a
   * reconnect the server could not recover, the latest page did not join up
   * with what was loaded). The list shows a marker there.
   */
  gaps: number[];
}

/** Messages per history page. */
export const PAGE_SIZE = 50;

export const state = reactive({
  me: null as ChatUser | null,
  bootstrapped: false,
  bootstrapError: '',
  /** The user is a server admin (from the bootstrap): the audit log and moderation in every room. */
  admin: false,
  /** A notice to show until dismissed, e.g. that a moderator removed the user from a room. */
  notice: '',
  conversations: {} as Record<string, Conversation>,
  channels: {} as Record<string, ChannelState>,
  /** The open conversation's channel, or '' before bootstrap. */
  active: '',
  /** Whether the open conversation's list is scrolled to the bottom (set by the list). */
  atBottom: true,
  /**
   * Who is connected to which conversation: channel → user id → online.
   * A user is online when any conversation sees them (see {@link isOnline});
   * one channel alone can lag (a peer not yet subscribed to a new DM).
   */
  presence: {} as Record<string, Record<string, boolean>>,
  /** A message to bring into view once its conversation shows (from a search result). */
  highlight: null as { channel: string; id: string; seq: number } | null,
  /** Every user seen (authors, members, peers), for names in reaction tooltips. */
  users: {} as Record<string, ChatUser>,
});

function blankChannel(channel: string): ChannelState {
  return {
    channel,
    messages: [],
    loaded: false,
    loading: false,
    loadingOlder: false,
    hasMore: false,
    error: '',
    pending: [],
    typing: {},
    draft: '',
    unreadMarkerSeq: null,
    editingId: null,
    gaps: [],
  };
}

export function channelState(channel: string): ChannelState {
  let cs = state.channels[channel];
  if (!cs) {
    state.channels[channel] = blankChannel(channel);
    cs = state.channels[channel]!;
  }
  return cs;
}

export function rememberUser(user: ChatUser): void {
  const known: ChatUser | undefined = state.users[user.id];
  if (!known || known.name !== user.name || known.color !== user.color || known.avatar !== user.avatar || known.username !== user.username) {
    state.users[user.id] = { id: user.id, name: user.name, color: user.color, avatar: user.avatar, ...(user.username ? { username: user.username } : {}) };
  }
}

export function isMe(userId: string): boolean {
  return state.me?.id === userId;
}

// ---------------------------------------------------------------------------
// Message lists

export function findMessage(cs: ChannelState, id: string): ChatMessage | undefined {
  for (let i = cs.messages.length - 1; i >= 0; i -= 1) if (cs.messages[i]!.id === id) return cs.messages[i];
  return undefined;
}

/** Adds or updates a message in seq order; returns whether it was new. */
export function insertMessage(cs: ChannelState, message: ChatMessage): boolean {
  rememberUser(message.author);
  const existing = findMessage(cs, message.id);
  if (existing) {
    Object.assign(existing, message);
    return false;
  }
  const list = cs.messages;
  let index = list.length;
  while (index > 0 && list[index - 1]!.seq > message.seq) index -= 1;
  list.splice(index, 0, { ...message, reactions: { ...message.reactions } });
  return true;
}

/** Unions messages by id (the later list wins) and sorts by seq. */
export function mergeMessages(a: readonly ChatMessage[], b: readonly ChatMessage[]): ChatMessage[] {
  const byId = new Map<string, ChatMessage>();
  for (const message of a) byId.set(message.id, message);
  for (const message of b) {
    rememberUser(message.author);
    byId.set(message.id, message);
  }
  return [...byId.values()].sort((x, y) => x.seq - y.seq);
}

/** Text as it is sent: shortcodes become emoji, surrounding blank space goes. */
export function prepareText(text: string): string {
  return replaceShortcodes(text).replace(/^\s*\n/, '').trimEnd().replace(/^\s+$/, '');
}

