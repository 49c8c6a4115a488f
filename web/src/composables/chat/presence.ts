/**
 * Who is online. Room channels push join and leave events; DM channels have
 * none, so their presence is asked for. A user counts as online when any of
 * the conversations sees them.
 */
import { presentUsers, rpc } from '../useRealtime';
import { isMe, rememberUser, state } from './state';

/** How often DM presence is checked (DM channels have no join/leave events). */
export const DM_PRESENCE_INTERVAL_MS = 30_000;

const memberRefreshTimers = new Map<string, ReturnType<typeof setTimeout>>();

export function setPresence(channel: string, userId: string, online: boolean): void {
  if (!state.conversations[channel]) return;
  const map = state.presence[channel];
  if (map) map[userId] = online;
  else state.presence[channel] = { [userId]: online };
}

/** Whether the user is connected: I always am; others when any of my conversations sees them. */
export function isOnline(userId: string): boolean {
  if (isMe(userId)) return true;
  for (const map of Object.values(state.presence)) if (map[userId]) return true;
  return false;
}

function dmWith(userId: string): string | undefined {
  return Object.values(state.conversations).find((c) => c.kind === 'dm' && c.peer?.id === userId)?.channel;
}

export function onPresenceJoin(channel: string, userId: string): void {
  if (!userId) return;
  setPresence(channel, userId, true);
  const cs = state.channels[channel];
  // Someone new in the room: fetch the list for their name and color.
  if (cs?.members && !cs.members.some((m) => m.id === userId)) scheduleMemberRefresh(channel, 200);
}

export function onPresenceLeave(channel: string, userId: string): void {
  if (!userId) return;
  // One tab closing does not make its user offline: ask who is still here.
  void presentUsers(channel)
    .then((present) => setPresence(channel, userId, present.has(userId)))
    .catch(() => scheduleMemberRefresh(channel, 300));
  // DM channels have no leave events: look there too.
  const dm = dmWith(userId);
  if (dm) void checkPresence(dm);
}

export async function checkPresence(channel: string): Promise<void> {
  try {
    const present = await presentUsers(channel);
    const ids = channel.slice(channel.indexOf(':') + 1).split(',');
    for (const id of ids) if (!isMe(id)) setPresence(channel, id, present.has(id));
  } catch {
    // Presence is best effort.
  }
}

export function scheduleMemberRefresh(channel: string, delay: number): void {
  clearTimeout(memberRefreshTimers.get(channel));
  memberRefreshTimers.set(
    channel,
    setTimeout(() => {
      memberRefreshTimers.delete(channel);
      void loadMembers(channel);
    }, delay),
  );
}

export async function loadMembers(channel: string): Promise<void> {
  try {
    const { members } = await rpc('chat.members', { channel });
    const cs = state.channels[channel];
    if (!cs) return;
    for (const member of members) rememberUser(member);
    if (state.conversations[channel]) state.presence[channel] = Object.fromEntries(members.map((m) => [m.id, m.online]));
    cs.members = members;
  } catch {
    // Keep the previous list; it is refreshed on the next open.
  }
}

export function clearMemberRefreshes(): void {
  for (const timer of memberRefreshTimers.values()) clearTimeout(timer);
  memberRefreshTimers.clear();
}
