/**
 * The room moderation part of the PostgreSQL chat store: the access read
 * the channel gate makes, member standings (role, muted) and bans. Every
 * write runs inside the store's write queue transaction it is given; all
 * values are bound parameters.
 */
import type { MessageChange, RoomAccess, RoomBan, RoomStanding } from './chat-store.js';
import { refuseRemoval, toMessage, toStanding, toUser } from './chat-rows.js';
import { messageById, type Db } from './postgres-chat-queries.js';

/** The room's visibility with the user's membership and ban, in one query. */
export async function selectRoomAccess(db: Db, name: string, userId: string): Promise<RoomAccess | undefined> {
  const [row] = await db<{ visibility: string; role: string | null; muted: boolean | null; banned: boolean }[]>`
    SELECT r.visibility, m.role, m.muted,
      EXISTS (SELECT 1 FROM chat_room_bans b WHERE b.room = r.name AND b.user_id = ${userId}) AS banned
    FROM chat_rooms r LEFT JOIN chat_room_members m ON m.room = r.name AND m.user_id = ${userId}
    WHERE r.name = ${name}`;
  if (!row) return undefined;
  const member = row.role === null ? undefined : toStanding({ role: row.role, muted: row.muted ?? false });
  return { visibility: row.visibility === 'private' ? 'private' : 'public', member, banned: row.banned };
}

/** One member's standing, locked until the transaction ends when `lock` is set. */
export async function selectStanding(db: Db, name: string, userId: string, lock = false): Promise<RoomStanding | undefined> {
  const [row] = await db<{ role: string; muted: boolean }[]>`
    SELECT role, muted FROM chat_room_members WHERE room = ${name} AND user_id = ${userId} ${lock ? db`FOR UPDATE` : db``}`;
  return row && toStanding(row);
}

export async function selectNotableStandings(db: Db, name: string): Promise<Map<string, RoomStanding>> {
  const rows = await db<{ user_id: string; role: string; muted: boolean }[]>`
    SELECT user_id, role, muted FROM chat_room_members WHERE room = ${name} AND (role <> 'member' OR muted)`;
  return new Map(rows.map((row) => [row.user_id, toStanding(row)]));
}

export async function updateStanding(db: Db, name: string, userId: string, change: Partial<RoomStanding>): Promise<boolean> {
  const current = await selectStanding(db, name, userId, true);
  if (!current) return false;
  const next = { ...current, ...change };
  await db`UPDATE chat_room_members SET role = ${next.role}, muted = ${next.muted} WHERE room = ${name} AND user_id = ${userId}`;
  return true;
}

export async function insertBan(
  db: Db,
  name: string,
  ban: { userId: string; bannedBy: string; bannedAt: number },
): Promise<{ banned: boolean; wasMember: boolean }> {
  // Alone on the room row: a join running on another node finishes first or sees the ban (see joinRoom).
  await db`SELECT 1 FROM chat_rooms WHERE name = ${name} FOR UPDATE`;
  const removed = await db`DELETE FROM chat_room_members WHERE room = ${name} AND user_id = ${ban.userId} RETURNING 1`;
  const added = await db`INSERT INTO chat_room_bans (room, user_id, banned_by, banned_at)
                         VALUES (${name}, ${ban.userId}, ${ban.bannedBy}, ${ban.bannedAt}) ON CONFLICT DO NOTHING RETURNING 1`;
  return { banned: added.length === 1, wasMember: removed.length === 1 };
}

export async function deleteBan(db: Db, name: string, userId: string): Promise<boolean> {
  return (await db`DELETE FROM chat_room_bans WHERE room = ${name} AND user_id = ${userId} RETURNING 1`).length === 1;
}

export async function isBanned(db: Db, name: string, userId: string): Promise<boolean> {
  return (await db`SELECT 1 FROM chat_room_bans WHERE room = ${name} AND user_id = ${userId}`).length === 1;
}

export async function selectBans(db: Db, name: string): Promise<RoomBan[]> {
  const rows = await db<{ user_id: string; banned_by: string; banned_at: string; name: string | null; color: string | null; avatar: string | null }[]>`
    SELECT b.user_id, b.banned_by, b.banned_at, u.name, u.color, u.avatar
    FROM chat_room_bans b LEFT JOIN chat_users u ON u.id = b.user_id
    WHERE b.room = ${name} ORDER BY b.banned_at DESC, b.user_id COLLATE "C"`;
  return rows.map((row) => ({
    userId: row.user_id,
    user: row.name === null ? undefined : toUser({ id: row.user_id, name: row.name, color: row.color ?? '', avatar: row.avatar }),
    bannedBy: row.banned_by,
    bannedAt: Number(row.banned_at),
  }));
}

/** Deletes any message of a channel on a moderator's authority, recording who removed it. */
export async function markRemoved(db: Db, channel: string, id: string, moderatorId: string): Promise<MessageChange> {
  const row = await messageById(db, channel, id, true);
  const refusal = refuseRemoval(row);
  if (refusal) return refusal;
  await db`UPDATE chat_messages SET deleted = true, text = '', reactions = '{}', search = ''::tsvector, removed_by = ${moderatorId}
           WHERE pk = ${row!.pk}`;
  return { ok: true, message: toMessage({ ...row!, text: '', deleted: true, reactions: '{}', removed_by: moderatorId }) };
}
