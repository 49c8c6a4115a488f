/**
 * Who is online. Room channels push join and leave events (unless the room
 * is big: then the member pages say who is online); DM channels have none,
 * so their presence is asked for. A user counts as online when any of the
 * conversations sees them.
 *
 * Join and leave events are applied in batches: a crowd arriving or leaving
 * at once (hundreds of events within a moment) becomes one state change and
 * one presence query per channel per {@link PRESENCE_BATCH_MS}, not one
 * reactive update and one query per event.
 */
import type { Member } from '../../protocol';
import { presentUsers } from '../useRealtime';
import { directories, refreshMembers } from './members';
import { isMe, state } from './state';

/** How often DM presence is checked (DM channels have no join/leave events). */
export const DM_PRESENCE_INTERVAL_MS = 30_000;
/** Join and leave events arriving within this window are applied together. */
export const PRESENCE_BATCH_MS = 250;

interface PendingPresence {
  joined: Set<string>;
  left: Set<string>;
}

const pending = new Map<string, PendingPresence>();
let batchTimer: ReturnType<typeof setTimeout> | null = null;

/** Sets several users' presence in a channel with one state change. */
function setPresence(channel: string, changes: Iterable<readonly [string, boolean]>): void {
  if (!state.conversations[channel]) return;
  const next = { ...state.presence[channel] };
  for (const [userId, online] of changes) next[userId] = online;
  state.presence[channel] = next;
}

/** Records the online state of members a `chat.members` page reported. */
export function notePresence(channel: string, members: readonly Member[]): void {
  setPresence(
    channel,
    members.map((member) => [member.id, member.online] as const),
  );
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

function queue(channel: string, userId: string, joined: boolean): void {
  if (!userId) return;
  let entry = pending.get(channel);
  if (!entry) {
    entry = { joined: new Set(), left: new Set() };
    pending.set(channel, entry);
  }
  // The later event wins: a quick leave and join again is a join.
  (joined ? entry.joined : entry.left).add(userId);
  (joined ? entry.left : entry.joined).delete(userId);
  batchTimer ??= setTimeout(flush, PRESENCE_BATCH_MS);
}

export function onPresenceJoin(channel: string, userId: string): void {
  queue(channel, userId, true);
}

export function onPresenceLeave(channel: string, userId: string): void {
  queue(channel, userId, false);
}

function flush(): void {
  batchTimer = null;
  const batch = [...pending];
  pending.clear();
  for (const [channel, changes] of batch) void applyBatch(channel, changes);
}

async function applyBatch(channel: string, { joined, left }: PendingPresence): Promise<void> {
  // One tab closing does not make its user offline: one query says who is still here.
  let stillHere = new Set<string>();
  if (left.size) {
    try {
      stillHere = await presentUsers(channel);
    } catch {
      // Presence is best effort: those who left count as gone.
    }
  }
  setPresence(channel, [...[...joined].map((id) => [id, true] as const), ...[...left].map((id) => [id, stillHere.has(id)] as const)]);
  // DM channels have no leave events: look there too.
  const dms = new Set([...left].map(dmWith).filter((dm): dm is string => !!dm));
  for (const dm of dms) void checkPresence(dm);
  // The member pages show order and counts: read the visible ones again.
  if (directories[channel]) void refreshMembers(channel);
}

export async function checkPresence(channel: string): Promise<void> {
  try {
    const present = await presentUsers(channel);
    const ids = channel.slice(channel.indexOf(':') + 1).split(',');
    setPresence(
      channel,
      ids.filter((id) => !isMe(id)).map((id) => [id, present.has(id)] as const),
    );
  } catch {
    // Presence is best effort.
  }
}

/** Drops presence events not applied yet (signing out). */
export function clearPendingPresence(): void {
  if (batchTimer) clearTimeout(batchTimer);
  batchTimer = null;
  pending.clear();
}
