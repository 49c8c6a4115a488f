/**
 * Guest sign-in sessions in the PostgreSQL chat store, found by the SHA-256
 * hex of their refresh token. Each function runs inside the store's write
 * transaction it is given; all values are bound parameters.
 */
import { GUEST_SESSION_TTL_MS } from './chat-store.js';
import { toUser } from './chat-rows.js';
import type { ChatUser } from './protocol.js';
import type { Db } from './postgres-chat-queries.js';

/** Records a session, dropping expired ones first. */
export async function insertGuestSession(db: Db, tokenHash: string, user: ChatUser, now: number): Promise<void> {
  await db`DELETE FROM chat_guest_sessions WHERE last_used_at <= ${now - GUEST_SESSION_TTL_MS}`;
  await db`INSERT INTO chat_guest_sessions (token_hash, user_id, name, color, avatar, created_at, last_used_at)
           VALUES (${tokenHash}, ${user.id}, ${user.name}, ${user.color}, ${user.avatar ?? null}, ${now}, ${now})`;
}

/** The session's user when it exists and has not expired, marking it used at `now` (an expired one is dropped). */
export async function touchGuestSession(db: Db, tokenHash: string, now: number): Promise<ChatUser | undefined> {
  const [row] = await db<{ user_id: string; name: string; color: string; avatar: string | null; last_used_at: string }[]>`
    SELECT user_id, name, color, avatar, last_used_at FROM chat_guest_sessions WHERE token_hash = ${tokenHash} FOR UPDATE`;
  if (!row) return undefined;
  const lastUsedAt = Number(row.last_used_at);
  if (now - lastUsedAt >= GUEST_SESSION_TTL_MS) {
    await db`DELETE FROM chat_guest_sessions WHERE token_hash = ${tokenHash}`;
    return undefined;
  }
  await db`UPDATE chat_guest_sessions SET last_used_at = ${Math.max(now, lastUsedAt)} WHERE token_hash = ${tokenHash}`;
  return toUser({ id: row.user_id, name: row.name, color: row.color, avatar: row.avatar });
}

export async function deleteGuestSession(db: Db, tokenHash: string): Promise<boolean> {
  return (await db`DELETE FROM chat_guest_sessions WHERE token_hash = ${tokenHash} RETURNING 1`).length === 1;
}
