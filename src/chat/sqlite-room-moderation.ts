/**
 * The room moderation part of the SQLite chat store: the access read the
 * channel gate makes, member standings (role, muted), bans and moderator
 * removals, over the store's prepared statements. Writes run inside the
 * store's group-commit transaction.
 */
import type { MessageChange, RoomAccess, RoomBan, RoomStanding } from './chat-store.js';
import { refuseRemoval, toMessage, toStanding, toUser } from './chat-rows.js';
import type { ChatStatements } from './sqlite-chat-statements.js';

export function roomAccess(s: ChatStatements, name: string, userId: string): RoomAccess | undefined {
  const row = s.roomAccess.get(userId, userId, name);
  if (!row) return undefined;
  const member = row.role === null ? undefined : toStanding({ role: row.role, muted: row.muted ?? 0 });
  return { visibility: row.visibility === 'private' ? 'private' : 'public', member, banned: row.banned === 1 };
}

export function notableStandings(s: ChatStatements, name: string): Map<string, RoomStanding> {
  return new Map(s.notableStandings.all(name).map((row) => [row.user_id, toStanding(row)]));
}

export function updateStanding(s: ChatStatements, name: string, userId: string, change: Partial<RoomStanding>): boolean {
  const row = s.getStanding.get(name, userId);
  if (!row) return false;
  const next = { ...toStanding(row), ...change };
  s.updateStanding.run(next.role, next.muted ? 1 : 0, name, userId);
  return true;
}

export function ban(s: ChatStatements, name: string, entry: { userId: string; bannedBy: string; bannedAt: number }): { banned: boolean; wasMember: boolean } {
  const wasMember = s.deleteMember.run(name, entry.userId).changes === 1;
  const banned = s.insertBan.run(name, entry.userId, entry.bannedBy, entry.bannedAt).changes === 1;
  return { banned, wasMember };
}

export function bans(s: ChatStatements, name: string): RoomBan[] {
  return s.roomBans.all(name).map((row) => ({
    userId: row.user_id,
    user: row.name === null ? undefined : toUser({ id: row.user_id, name: row.name, color: row.color ?? '', avatar: row.avatar }),
    bannedBy: row.banned_by,
    bannedAt: row.banned_at,
  }));
}

/** Deletes any message of a channel on a moderator's authority, recording who removed it. */
export function markRemoved(s: ChatStatements, channel: string, id: string, moderatorId: string): MessageChange {
  const row = s.messageById.get(channel, id);
  const refusal = refuseRemoval(row);
  if (refusal) return refusal;
  s.markRemoved.run(moderatorId, row!.pk);
  return { ok: true, message: toMessage({ ...row!, text: '', deleted: 1, reactions: '{}', removed_by: moderatorId }) };
}
