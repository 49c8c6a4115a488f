/**
 * Authors that stand for a name rather than for a signed-in user: people
 * posting through a seed client, bots and scripts posting through the
 * server API. Such a name is all there is to know about who posts, so the
 * name alone decides the identity.
 */
import { createHash } from 'node:crypto';
import { colorForUser } from './names.js';
import type { ChatUser } from './protocol.js';

/**
 * The chat user behind `name` (already cleaned by the caller):
 * - `id`: `prefix` and 16 hex digits of the SHA-256 of the name, so the same
 *   name is always the same author (the web app groups consecutive messages
 *   and picks colors by author id) and two names are never one author;
 * - `name`: as given;
 * - `color`: the palette color of the id.
 *
 * `prefix` keeps these ids apart from signed-in users' ids, so a name never
 * becomes a real user: it must contain a character no user id issued by
 * Parley has (`:`; guests are `g_…`, and `POST /auth` refuses colons).
 */
export function namedAuthor(prefix: string, name: string): ChatUser {
  const id = `${prefix}${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
  return { id, name, color: colorForUser(id) };
}
