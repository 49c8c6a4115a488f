/**
 * The PostgreSQL chat store's group DMs, last-seen times, people directory
 * and guest expiry. Each function runs in the client or transaction it is
 * given; all values are bound parameters.
 */
import { dmChannelFor, type DirectoryEntry, type DirectorySearch, type DmRecord, type UserDetails } from './chat-store.js';
import { toDirectoryEntry, toUserDetails, type DirectoryRow } from './chat-rows.js';
import { likePatterns, searchKeyOf } from './people-search.js';
import { selectDm, type Db } from './postgres-chat-queries.js';

/**
 * Opens the DM of `users` (distinct, ascending, 2 to `MAX_DM_USERS`) when
 * all have profiles. Two nodes opening it at once create it once: the DM
 * row's primary key decides, and the loser reads the winner's.
 */
export async function openGroup(tx: Db, users: readonly string[], now: number): Promise<{ dm: DmRecord; created: boolean } | undefined> {
  const [known] = await tx<{ n: string }[]>`SELECT count(*) AS n FROM chat_users WHERE id = ANY(${[...users]}::text[])`;
  if (Number(known!.n) !== users.length) return undefined;
  const channel = dmChannelFor(users);
  const added = await tx`INSERT INTO chat_dms (channel, created_at) VALUES (${channel}, ${now}) ON CONFLICT DO NOTHING RETURNING 1`;
  if (added.length === 1) {
    await tx`INSERT INTO chat_dm_members (channel, user_id) SELECT ${channel}, id FROM unnest(${[...users]}::text[]) AS u (id)`;
    return { dm: { channel, users: [...users], createdAt: now }, created: true };
  }
  const existing = await selectDm(tx, channel);
  if (!existing) throw new Error(`DM ${channel} vanished`);
  return { dm: existing, created: false };
}

/** Moves a user's last-seen time forward and records their account's username, when they have one (and the search key that includes it). */
export async function recordSeen(tx: Db, userId: string, seen: { at: number; username: string | null }): Promise<void> {
  // Locked so that a profile change on another node at the same time keeps the key in step with the name.
  const [row] = await tx<{ name: string; username: string | null }[]>`SELECT name, username FROM chat_users WHERE id = ${userId} FOR UPDATE`;
  if (!row) return;
  const username = seen.username ?? row.username;
  await tx`UPDATE chat_users SET last_seen_at = greatest(last_seen_at, ${seen.at}), username = ${username},
             search_key = ${searchKeyOf(row.name, username)}
           WHERE id = ${userId}`;
}

export async function userDetails(db: Db, userIds: readonly string[]): Promise<Map<string, UserDetails>> {
  const details = new Map<string, UserDetails>();
  if (userIds.length === 0) return details;
  const rows = await db<{ id: string; username: string | null; last_seen_at: string }[]>`
    SELECT id, username, last_seen_at FROM chat_users WHERE id = ANY(${[...userIds]}::text[])`;
  for (const row of rows) details.set(row.id, toUserDetails({ username: row.username, last_seen_at: Number(row.last_seen_at) }));
  return details;
}

/** One directory page, by name key then id in byte order (as SQLite's BINARY collation sorts). */
export async function searchUsers(db: Db, search: DirectorySearch): Promise<DirectoryEntry[]> {
  const { words, after, limit, guestsSeenSince } = search;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('directory limit must be a positive integer');
  const rows = await db<DirectoryRow[]>`
    SELECT id, name, color, avatar, username, name_key FROM chat_users
    WHERE search_key LIKE ALL(${likePatterns(words)}::text[])
      AND (username IS NOT NULL OR substr(id, 1, 2) <> 'g_' OR last_seen_at >= ${guestsSeenSince})
      ${after ? db`AND (name_key COLLATE "C", id COLLATE "C") > (${after.name}, ${after.id})` : db``}
    ORDER BY name_key COLLATE "C", id COLLATE "C" LIMIT ${limit}`;
  return rows.map(toDirectoryEntry);
}

/** Removes guests without an account not seen since `seenBefore` from every room; resolves the rooms that changed. */
export async function expireGuests(tx: Db, seenBefore: number): Promise<string[]> {
  const rows = await tx<{ room: string }[]>`
    DELETE FROM chat_room_members WHERE user_id IN (
      SELECT id FROM chat_users WHERE substr(id, 1, 2) = 'g_' AND username IS NULL AND last_seen_at < ${seenBefore})
    RETURNING room`;
  return [...new Set(rows.map((row) => row.room))];
}
