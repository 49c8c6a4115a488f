/**
 * The SQLite chat store's group DMs, last-seen times, people directory and
 * guest expiry, on its prepared statements. Writes run inside the store's
 * write queue (one transaction per batch); reads against committed data.
 */
import type Database from 'better-sqlite3';
import { dmChannelFor, type DirectoryEntry, type DirectorySearch, type DmRecord, type UserDetails } from './chat-store.js';
import { toDirectoryEntry, toDm, toUserDetails } from './chat-rows.js';
import { likePatterns, nameKeyOf, searchKeyOf } from './people-search.js';
import type { ChatStatements } from './sqlite-chat-statements.js';

/** Opens the DM of `users` (distinct, ascending, 2 to `MAX_DM_USERS`) when all have profiles. */
export function openGroup(s: ChatStatements, users: readonly string[], now: number): { dm: DmRecord; created: boolean } | undefined {
  if (!users.every((id) => s.getUser.get(id))) return undefined;
  const channel = dmChannelFor(users);
  const existing = s.getDm.get(channel);
  if (existing) return { dm: toDm(existing, s.dmUsers.all(channel)), created: false };
  s.insertDm.run(channel, now);
  for (const id of users) s.insertDmMember.run(channel, id);
  return { dm: { channel, users: [...users], createdAt: now }, created: true };
}

/** Moves a user's last-seen time forward and records their username (and the search key that includes it). */
export function recordSeen(s: ChatStatements, userId: string, seen: { at: number; username: string | null }): void {
  const row = s.getUser.get(userId);
  if (!row) return;
  // Without an account, the username a profile brought (from the connection token) stays.
  const username = seen.username ?? row.username ?? null;
  s.recordSeen.run(seen.at, username, searchKeyOf(row.name, username), userId);
}

export function userDetails(s: ChatStatements, userIds: readonly string[]): Map<string, UserDetails> {
  const details = new Map<string, UserDetails>();
  if (userIds.length === 0) return details;
  for (const row of s.userDetails.all(JSON.stringify(userIds))) details.set(row.id, toUserDetails(row));
  return details;
}

/** One directory page, by name key then id (BINARY collation: byte order, as PostgreSQL's "C"). */
export function searchUsers(s: ChatStatements, search: DirectorySearch): DirectoryEntry[] {
  const { words, after, limit, guestsSeenSince } = search;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('directory limit must be a positive integer');
  const rows = s.searchUsers.all(JSON.stringify(likePatterns(words)), guestsSeenSince, after?.name ?? null, after?.name ?? null, after?.id ?? '', limit);
  return rows.map(toDirectoryEntry);
}

/** Removes guests without an account not seen since `seenBefore` from every room; returns the rooms that changed. */
export function expireGuests(s: ChatStatements, seenBefore: number): string[] {
  const rooms = s.roomsWithExpiredGuests.all(seenBefore);
  if (rooms.length > 0) s.deleteExpiredGuests.run(seenBefore);
  return rooms;
}

/** Fills the search and sort keys of users stored before those keys existed (computed here, not in SQL, to fold like every other write). */
export function fillUserKeys(db: Database.Database, s: ChatStatements): void {
  const rows = s.unkeyedUsers.all();
  if (rows.length === 0) return;
  db.transaction(() => {
    for (const row of rows) s.setUserKeys.run(searchKeyOf(row.name, row.username), nameKeyOf(row.name), row.id);
  })();
}
