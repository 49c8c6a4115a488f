/**
 * Conversations: the sidebar lists, opening one, read positions and unread
 * counts, and the room and DM operations.
 */
import { computed } from 'vue';
import { errorMessage } from '../../lib/errors';
import type { ChatMessage, Conversation, Room, UsersPage } from '../../protocol';
import { DEFAULT_ROOM } from '../../protocol';
import { getSubscription, rpc, unsubscribe } from '../useRealtime';
import { subscribeConversation } from './events';
import { loadLatest } from './history';
import { forgetMembers, loadMembers } from './members';
import { channelState, rememberUser, state } from './state';

/** Merges a conversation from the server; values learned from live events that are newer are kept. */
export function upsertConversation(conversation: Conversation): Conversation {
  for (const peer of conversation.peers ?? (conversation.peer ? [conversation.peer] : [])) rememberUser(peer);
  const existing = state.conversations[conversation.channel];
  if (!existing) {
    state.conversations[conversation.channel] = { ...conversation };
    subscribeConversation(conversation.channel);
    return state.conversations[conversation.channel]!;
  }
  const liveAhead = existing.lastSeq > conversation.lastSeq;
  Object.assign(existing, {
    ...conversation,
    lastSeq: Math.max(existing.lastSeq, conversation.lastSeq),
    lastReadSeq: Math.max(existing.lastReadSeq, conversation.lastReadSeq),
    unread: liveAhead ? Math.max(existing.unread, conversation.unread) : conversation.unread,
    lastMessageAt: Math.max(existing.lastMessageAt ?? 0, conversation.lastMessageAt ?? 0) || undefined,
  });
  if (existing.lastReadSeq >= existing.lastSeq) existing.unread = 0;
  return existing;
}

export function removeConversation(channel: string): void {
  unsubscribe(channel);
  delete state.conversations[channel];
  delete state.channels[channel];
  delete state.presence[channel];
  forgetMembers(channel);
  if (state.active === channel) openConversation(defaultChannel());
}

function defaultChannel(): string {
  const general = `room:${DEFAULT_ROOM}`;
  if (state.conversations[general]) return general;
  return sortedRooms.value[0]?.channel ?? sortedDms.value[0]?.channel ?? '';
}

export const sortedRooms = computed(() =>
  Object.values(state.conversations)
    .filter((c) => c.kind === 'room')
    .sort((a, b) => a.title.localeCompare(b.title)),
);

export const sortedDms = computed(() =>
  Object.values(state.conversations)
    .filter((c) => c.kind === 'dm')
    .sort((a, b) => (b.lastMessageAt ?? 0) - (a.lastMessageAt ?? 0) || a.title.localeCompare(b.title)),
);

export const totalUnread = computed(() => Object.values(state.conversations).reduce((sum, c) => sum + c.unread, 0));

function pageIsAttended(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

/** Marks the open conversation read when the user can see its newest message. */
export function maybeMarkRead(): void {
  const channel = state.active;
  const conversation = state.conversations[channel];
  const cs = state.channels[channel];
  if (!conversation || !cs?.loaded || !state.atBottom || !pageIsAttended()) return;
  const newest = Math.max(conversation.lastSeq, cs.messages[cs.messages.length - 1]?.seq ?? 0);
  if (newest <= conversation.lastReadSeq) {
    conversation.unread = 0;
    return;
  }
  conversation.lastReadSeq = newest;
  conversation.unread = 0;
  rpc('chat.markRead', { channel, seq: newest }).catch(() => undefined);
}

export function setAtBottom(atBottom: boolean): void {
  state.atBottom = atBottom;
  if (atBottom) maybeMarkRead();
}

export function openConversation(channel: string): void {
  if (!channel) return;
  const conversation = state.conversations[channel];
  if (state.active && state.active !== channel) {
    const previous = state.channels[state.active];
    if (previous) {
      previous.unreadMarkerSeq = null;
      previous.editingId = null;
    }
  }
  if (state.active !== channel) {
    state.active = channel;
    state.atBottom = true;
    const cs = channelState(channel);
    cs.unreadMarkerSeq = conversation && conversation.unread > 0 ? conversation.lastReadSeq : null;
  }
  if (location.hash.slice(1) !== channel) history.replaceState(null, '', `#${channel}`);
  if (!conversation) return;
  const cs = channelState(channel);
  if (!cs.loaded) void loadLatest(channel);
  else maybeMarkRead();
  void loadMembers(channel);
}

/** A link to a room this user is not in (left, removed, banned, private): says so instead of opening it. */
export function noticeIfNotMember(channel: string): void {
  if (channel.startsWith('room:') && !state.conversations[channel]) state.notice = `You are not a member of #${channel.slice('room:'.length)}.`;
}

export function requestedChannel(): string {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return '';
  }
}

export async function bootstrap(): Promise<void> {
  try {
    const { user, conversations, admin } = await rpc('chat.bootstrap', {});
    state.me = user;
    state.admin = admin === true;
    rememberUser(user);
    const seen = new Set<string>();
    const added: string[] = [];
    for (const conversation of conversations) {
      if (!state.conversations[conversation.channel]) added.push(conversation.channel);
      upsertConversation(conversation);
      seen.add(conversation.channel);
    }
    for (const channel of Object.keys(state.conversations)) if (!seen.has(channel)) removeConversation(channel);
    state.bootstrapped = true;
    state.bootstrapError = '';
    const wanted = state.active || requestedChannel();
    if (!state.notice) noticeIfNotMember(wanted);
    openConversation(state.conversations[wanted] ? wanted : defaultChannel());
    if (added.length) void refreshCounts(added);
  } catch (error) {
    state.bootstrapError = errorMessage(error, 'Could not load your conversations.');
  }
}

/**
 * Messages posted between the bootstrap snapshot and the moment the new
 * subscriptions became active reach nobody live: once they are active, the
 * counts are fetched again (live events since are deduplicated by seq).
 */
async function refreshCounts(channels: string[]): Promise<void> {
  await Promise.all(channels.map((channel) => getSubscription(channel)?.ready(5000).catch(() => undefined)));
  try {
    const { conversations } = await rpc('chat.bootstrap', {});
    for (const conversation of conversations) if (state.conversations[conversation.channel]) upsertConversation(conversation);
    maybeMarkRead();
  } catch {
    // The next connect refreshes them.
  }
}

export async function createRoom(name: string, topic: string, isPrivate = false): Promise<Conversation> {
  const { conversation } = await rpc('chat.createRoom', { name, ...(topic ? { topic } : {}), ...(isPrivate ? { private: true } : {}) });
  openConversation(upsertConversation(conversation).channel);
  return conversation;
}

export async function joinRoom(name: string): Promise<Conversation> {
  const { conversation } = await rpc('chat.joinRoom', { name });
  openConversation(upsertConversation(conversation).channel);
  return conversation;
}

export async function leaveRoom(name: string): Promise<void> {
  await rpc('chat.leaveRoom', { name });
  removeConversation(`room:${name}`);
}

export async function openDm(userId: string): Promise<Conversation> {
  const { conversation } = await rpc('chat.openDm', { user: userId });
  openConversation(upsertConversation(conversation).channel);
  return conversation;
}

/** Opens (or returns) the group DM of the signed-in user and 2 to 7 others. */
export async function openGroup(userIds: readonly string[]): Promise<Conversation> {
  const { conversation } = await rpc('chat.openGroup', { users: [...userIds] });
  openConversation(upsertConversation(conversation).channel);
  return conversation;
}

/** One page of the people the signed-in user can start a conversation with. */
export async function findPeople(query: string, cursor?: string): Promise<UsersPage> {
  return rpc('chat.users', { query, limit: 20, ...(cursor ? { cursor } : {}) });
}

export async function listRooms(): Promise<Room[]> {
  return (await rpc('chat.rooms', {})).rooms;
}

export async function search(query: string): Promise<ChatMessage[]> {
  const { messages } = await rpc('chat.search', { query, limit: 50 });
  for (const message of messages) rememberUser(message.author);
  return messages;
}
