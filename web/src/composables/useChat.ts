/**
 * The chat store's public face. The state and its logic live in `chat/`:
 * - `state`: the reactive state and ordered, duplicate-free message lists;
 * - `conversations`: sidebar lists, opening, read positions, room and DM operations;
 * - `history`: latest and older pages, resync after a failed recovery;
 * - `messaging`: send, edit, delete, react, typing notices;
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
  joinRoom,
  leaveRoom,
  listRooms,
  maybeMarkRead,
  openConversation,
  openDm,
  requestedChannel,
  search,
  setAtBottom,
  sortedDms,
  sortedRooms,
  totalUnread,
} from './chat/conversations';
import { forgetTyping, subscribeUser } from './chat/events';
import { loadLatest, loadOlder } from './chat/history';
import { clearTyping, edit, react, remove, send, typing } from './chat/messaging';
import { clearMembers, directories, loadMembers, loadMoreMembers, memberCounts, refreshMembers, searchMembers } from './chat/members';
import { DM_PRESENCE_INTERVAL_MS, checkPresence, clearPendingPresence, isOnline } from './chat/presence';
import { state } from './chat/state';
import { startRealtime, stopRealtime, useConnection } from './useRealtime';

export type { ChannelState, PendingMessage, TypingEntry } from './chat/state';
export type { SendResult } from './chat/messaging';
export { prepareText } from './chat/state';

let presenceTimer: ReturnType<typeof setInterval> | null = null;

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
  if (channel && channel !== state.active && state.conversations[channel]) openConversation(channel);
};

function reset(): void {
  state.me = null;
  state.bootstrapped = false;
  state.bootstrapError = '';
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
  onUnauthorized: () => void;
}

/** Connects and keeps the state in sync until {@link stopChat}. */
function startChat(options: StartOptions): void {
  reset();
  state.me = options.me;
  startRealtime({
    token: options.token,
    getToken: options.getToken,
    // Every (re)connect refreshes the conversation list and unread counts.
    onConnected: () => void bootstrap(),
    onUnauthorized: options.onUnauthorized,
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
    loadMembers,
    searchMembers,
    loadMoreMembers,
    refreshMembers,
    memberCounts,
    setAtBottom,
    maybeMarkRead,
    send,
    edit,
    remove,
    react,
    typing,
    createRoom,
    joinRoom,
    leaveRoom,
    openDm,
    listRooms,
    search,
  };
}
