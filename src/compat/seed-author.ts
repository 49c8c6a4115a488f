/**
 * Who a message from a seed client is by. The seed protocol has no sign-in:
 * every frame names its sender, so the chat identity is derived from the
 * username alone and the email only supplies a Gravatar picture.
 */
import { createHash } from 'node:crypto';
import { namedAuthor } from '../chat/named-author.js';
import { MAX_DISPLAY_NAME_LENGTH, type ChatUser } from '../chat/protocol.js';

/** Prefix of the user ids of seed `/ws` users (`POST /auth` refuses client ids with a colon, so its tokens cannot take these). */
export const SEED_USER_PREFIX = 'ws:';
/** Name of seed users who gave none. */
export const ANONYMOUS_NAME = 'anonymous';

// Control characters and bidirectional overrides would let a name hide or
// reorder the text around it on other users' screens.
const UNSAFE_NAME_CHARS = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * The display name of a seed username, cleaned as the chat cleans names
 * (trimmed, whitespace collapsed, NFC) but never refused: unsafe characters
 * become spaces and a long name is cut to the chat's longest, because a seed
 * client cannot be told what went wrong. Blank is {@link ANONYMOUS_NAME}.
 */
export function seedDisplayName(username: string | undefined): string {
  if (username === undefined) return ANONYMOUS_NAME;
  const collapsed = username.replace(UNSAFE_NAME_CHARS, ' ').normalize('NFC').trim().replace(/\s+/gu, ' ');
  const name = [...collapsed].slice(0, MAX_DISPLAY_NAME_LENGTH).join('').trimEnd();
  return name === '' ? ANONYMOUS_NAME : name;
}

/**
 * The chat user behind a seed message:
 * - `id`, `name` and `color`: the {@link namedAuthor} of the
 *   {@link seedDisplayName} with {@link SEED_USER_PREFIX}, so the same
 *   username is always the same user (and the email, which anyone could
 *   type, plays no part in who someone is);
 * - `avatar`: the Gravatar MD5 of the trimmed, lower-cased email, when one
 *   was given. The email itself goes no further than this function.
 */
export function seedAuthor(username: string | undefined, email: string | undefined): ChatUser {
  const author = namedAuthor(SEED_USER_PREFIX, seedDisplayName(username));
  const normalized = email?.trim().toLowerCase();
  if (normalized) author.avatar = createHash('md5').update(normalized).digest('hex');
  return author;
}
