/**
 * The chat store's public face. The state and its logic live in `chat/`:
 * - `state`: the reactive state and ordered, duplicate-free message lists;
 * - `conversations`: sidebar lists, opening, read positions, room and DM operations;
 * - `history`: latest and older pages, resync after a failed recovery;
 * - `messaging`: send, edit, delete, react, typing notices;
 * - `outbox`: unsent messages, sent in order and retried until confirmed;
 * - `device-storage`: drafts and unsent messages kept across reloads;
 * - `events`: applying realtime events from conversation and user channels;
 * - `presence`: who is online;
 * - `members`: conversations' members, page by page.
 * Components read `state` and call the actions returned here.
 */
import { computed, watch } from 'vue';
import type { ChatUser } from '../protocol';
import {
  bootstrap,
  createRoom,
  findPeople,
  joinRoom,
  leaveRoom,
  listRooms,
  maybeMarkRead,
  noticeIfNotMember,
  openConversation,
  openDm,
  openGroup,
  requestedChannel,
  search,
  setAtBottom,
  sortedDms,
  sortedRooms,
  totalUnread,
} from './chat/conversations';
import { forgetDevice, keepOnDevice } from './chat/device-storage';
import { addMembers, auditPage, canModerate, listBans, moderate, powersOver } from './chat/moderation';
import { forgetTyping, subscribeUser } from './chat/events';
import { loadGap, loadLatest, loadOlder, loadUntil } from './chat/history';
import { clearTyping, edit, react, remove, send, typing } from './chat/messaging';
import { clearMembers, directories, loadMembers, loadMoreMembers, memberCounts, refreshMembers, searchMembers } from './chat/members';
import { drainAll, retryPending, stopOutbox, takeBackPending } from './chat/outbox';
import { DM_PRESENCE_INTERVAL_MS, checkPresence, clearPendingPresence, isOnline } from './chat/presence';
import { state } from './chat/state';
import { startRealtime, stopRealtime, useConnection } from './useRealtime';
import { useSession } from './useSession';

export type { ChannelState, PendingMessage, TypingEntry } from './chat/state';
export type { SendResult } from './chat/messaging';
export { prepareText } from './chat/state';

let presenceTimer: ReturnType<typeof setInterval> | null = null;
let stopKeeping: (() => void) | null = null;

// No typing event can arrive while offline, so a "typing…" shown when the connection drops is stale: clear it at once.
watch(
  () => useConnection().state,
  (connection) => {
    if (connection !== 'connected') forgetTyping();
  },
);

const onAttention = () => maybeMarkRead();
const onHashChange = () => {
  const channel = requestedChannel();
  if (!channel || channel === state.active) return;
  if (state.conversations[channel]) openConversation(channel);
  else if (state.bootstrapped) {
    noticeIfNotMember(channel);
    // Back to the conversation on screen, so the address names what shows.
    if (state.active) history.replaceState(null, '', `#${state.active}`);
  }
};

function reset(): void {
  state.me = null;
  state.bootstrapped = false;
  state.bootstrapError = '';
  state.admin = false;
  state.notice = '';
  state.conversations = {};
  state.channels = {};
  state.active = '';
  state.atBottom = true;
  state.presence = {};
  state.highlight = null;
  state.users = {};
  clearTyping();
  clearMembers();
  clearPendingPresence();
}

export interface StartOptions {
  me: ChatUser;
  token: string;
  getToken: () => Promise<string>;
  onUnauthorized: (notice: string) => void;
  /** The server closed the connection for good: see `RealtimeOptions.onRefused`. */
  onRefused: (code: number, reason: string) => void;
}

/** Connects and keeps the state in sync until {@link stopChat}. */
function startChat(options: StartOptions): void {
  reset();
  state.me = options.me;
  stopKeeping = keepOnDevice(options.me.id);
  startRealtime({
    token: options.token,
    getToken: options.getToken,
    // Every (re)connect refreshes the conversation list and unread counts, and sends what is queued.
    onConnected: () => {
      void bootstrap();
      drainAll();
    },
    onUnauthorized: options.onUnauthorized,
    onRefused: options.onRefused,
  });
  subscribeUser(options.me.id);
  window.addEventListener('focus', onAttention);
  document.addEventListener('visibilitychange', onAttention);
  window.addEventListener('hashchange', onHashChange);
  presenceTimer = setInterval(() => {
    for (const conversation of sortedDms.value) void checkPresence(conversation.channel);
  }, DM_PRESENCE_INTERVAL_MS);
}

function stopChat(): void {
  const userId = state.me?.id;
  stopOutbox();
  stopKeeping?.();
  stopKeeping = null;
  // Signed out on purpose (no notice about an ended session): drafts and unsent messages go too.
  const session = useSession().state;
  if (userId && !session.session && !session.notice) forgetDevice(userId);
  stopRealtime();
  window.removeEventListener('focus', onAttention);
  document.removeEventListener('visibilitychange', onAttention);
  window.removeEventListener('hashchange', onHashChange);
  if (presenceTimer) clearInterval(presenceTimer);
  presenceTimer = null;
  reset();
}

const activeConversation = computed(() => state.conversations[state.active]);
const activeChannel = computed(() => (state.active ? state.channels[state.active] : undefined));

export function useChat() {
  return {
    state,
    rooms: sortedRooms,
    dms: sortedDms,
    totalUnread,
    activeConversation,
    activeChannel,
    isOnline,
    startChat,
    stopChat,
    bootstrap,
    openConversation,
    loadLatest,
    loadOlder,
    members: directories,
    loadGap,
    loadUntil,
    loadMembers,
    searchMembers,
    loadMoreMembers,
    refreshMembers,
    memberCounts,
    setAtBottom,
    maybeMarkRead,
    send,
    retryPending,
    takeBackPending,
    edit,
    remove,
    react,
    typing,
    createRoom,
    joinRoom,
    leaveRoom,
    openDm,
    openGroup,
    findPeople,
    listRooms,
    search,
    addMembers,
    moderate,
    listBans,
    auditPage,
    powersOver,
    canModerate,
  };
}
