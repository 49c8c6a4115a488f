/**
 * Who a connection is, as the chat shows them. Guests' tokens carry
 * `info: {name, color, avatar}`; tokens minted by other backends may carry
 * only `{name}`, something else, or nothing, and none of it is trusted to be
 * well formed: every field is checked and replaced by a safe default.
 */
import { MAX_DISPLAY_NAME_LENGTH, type ChatUser } from './protocol.js';
import { colorForUser } from './names.js';
import { checkUsername } from '../accounts/username.js';
import type { Principal } from '../channel/access.js';
import type { RpcContext } from '../node/node.js';
import { Errors } from '../protocol/errors.js';
import type { ClientInfo } from '../protocol/types.js';

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
const MD5_HEX = /^[0-9a-fA-F]{32}$/;
// Control characters and bidirectional overrides would let a name hide or
// reorder the text around it in other users' screens. Tabs and line breaks
// are whitespace and get collapsed instead.
const UNSAFE_NAME_CHARS = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Why a display name was refused by {@link cleanDisplayName}. */
export type DisplayNameProblem = 'control-characters' | 'too-long';

/**
 * Normalizes a display name: trimmed, runs of whitespace collapsed to one
 * space. Refuses control characters and bidirectional overrides, and names
 * longer than {@link MAX_DISPLAY_NAME_LENGTH} characters (code points).
 * The empty string is returned as is: the caller decides what blank means.
 */
export function cleanDisplayName(raw: string): { name: string } | { problem: DisplayNameProblem } {
  if (UNSAFE_NAME_CHARS.test(raw)) return { problem: 'control-characters' };
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  if ([...name].length > MAX_DISPLAY_NAME_LENGTH) return { problem: 'too-long' };
  return { name };
}

/** Whether a value is a `#rrggbb` color. */
export function isHexColor(value: unknown): value is string {
  return typeof value === 'string' && HEX_COLOR.test(value);
}

/** Whether a value is an MD5 hex digest (a Gravatar hash), never an email or anything else. */
export function isAvatarHash(value: unknown): value is string {
  return typeof value === 'string' && MD5_HEX.test(value);
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max).join('');
}

/**
 * The chat user of a connection.
 *
 * Guarantees: `id` is the connection's user; `name` is the token info's
 * `name` when it is a usable string (too long ones are shortened), else the
 * user id (shortened to {@link MAX_DISPLAY_NAME_LENGTH}); `color` is the
 * info's `color` only when it is `#rrggbb`, else the palette color of the
 * user id; `avatar` is present only when the info's `avatar` is a 32-digit
 * hex MD5 hash (lower-cased); `username` only when the info's `username`
 * passes `checkUsername` (as registered, NFC). Nothing else from the token is copied, so an
 * email or any other field in a token never reaches other users through
 * the chat.
 *
 * @throws ProtocolError 101 for anonymous connections (user ""), which have
 *   no identity to attach messages, memberships or read positions to.
 */
export function chatUserOf(info: ClientInfo): ChatUser {
  const id = info.user;
  if (id === '') throw Errors.unauthorized('Sign in to use the chat: anonymous connections cannot');
  const data = typeof info.conn_info === 'object' && info.conn_info !== null ? (info.conn_info as Record<string, unknown>) : {};
  let name = truncate(id, MAX_DISPLAY_NAME_LENGTH);
  if (typeof data.name === 'string' && !UNSAFE_NAME_CHARS.test(data.name)) {
    const cleaned = data.name.normalize('NFC').trim().replace(/\s+/gu, ' ');
    if (cleaned !== '') name = truncate(cleaned, MAX_DISPLAY_NAME_LENGTH);
  }
  const user: ChatUser = { id, name, color: isHexColor(data.color) ? data.color : colorForUser(id) };
  if (isAvatarHash(data.avatar)) user.avatar = data.avatar.toLowerCase();
  if (typeof data.username === 'string') {
    const checked = checkUsername(data.username);
    if (checked.ok) user.username = checked.username;
  }
  return user;
}

/** Who calls a chat method: their chat profile and what their token lets them do. */
export interface Caller {
  readonly user: ChatUser;
  readonly principal: Principal;
}

/**
 * The caller of an RPC.
 *
 * A token with a `permissions` claim speaks for its user only as far as the
 * claim goes. Chat methods act on the user's whole identity (profile,
 * memberships, DMs, read positions), so such a token may use them only when
 * it grants the user's own channel `user:<id>`: tokens minted for narrower
 * purposes (e.g. `POST /auth` tokens for observable and private rooms) cannot
 * reach into the chat identity of a user with the same id.
 *
 * @throws ProtocolError 101 for anonymous connections (see {@link chatUserOf}),
 *   103 for a permissions claim that does not grant `user:<id>`.
 */
export function callerOf(context: RpcContext): Caller {
  const user = chatUserOf(context.info);
  if (context.permissions && !context.permissions.allows('subscribe', `user:${context.user}`)) {
    throw Errors.permissionDenied('This token does not grant access to the chat');
  }
  return { user, principal: { user: context.user, permissions: context.permissions } };
}
