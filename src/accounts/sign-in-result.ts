/**
 * What the sign-in routes answer: the person's chat profile, a short-lived
 * connection token carrying it, and their account as they see it.
 */
import { signOwnToken, type OwnTokenSigning } from '../auth/jwt.js';
import type { ChatStore } from '../chat/chat-store.js';
import { colorForUser } from '../chat/names.js';
import type { AccountInfo, ChatUser, SignInResult } from '../chat/protocol.js';
import type { Account } from './account-store.js';

/**
 * Lifetime of an account's connection token. Short, because a token cannot
 * be taken back: the app renews it through `POST /app/token`, and every
 * connect and renewal checks the session (`sid`) and the account again.
 */
export const ACCOUNT_TOKEN_TTL_SECONDS = 10 * 60;
/** Lifetime of a guest's connection token; the app renews it with its session cookie. */
export const GUEST_TOKEN_TTL_SECONDS = 60 * 60;

/**
 * A connection token (HS256): `sub` the user id, `info` what other people
 * see (`name`, `color`, `avatar?`, `username?`) and, for an account's
 * session, `sid`: the session's id, which connects check is still live.
 */
export function connectionToken(user: ChatUser, signing: OwnTokenSigning, options: { ttlSeconds: number; sessionId?: string }): string {
  const info: Record<string, string> = { name: user.name, color: user.color };
  if (user.avatar) info.avatar = user.avatar;
  if (user.username) info.username = user.username;
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: user.id, info, iat: now, exp: now + options.ttlSeconds };
  if (options.sessionId !== undefined) claims.sid = options.sessionId;
  return signOwnToken(claims, signing);
}

/**
 * An account's chat profile: the chat store's (name, color and avatar as
 * last edited, by the person or before as a guest), else one made from the
 * account; always with the account's username.
 */
export async function accountUser(chat: ChatStore, account: Account): Promise<ChatUser> {
  const stored = await chat.getUser(account.id);
  const user: ChatUser = stored
    ? { ...stored, username: account.username }
    : { id: account.id, name: account.displayName, color: colorForUser(account.id), username: account.username };
  return user;
}

/** The account as its owner sees it. */
export function accountInfo(account: Account, user: ChatUser): AccountInfo {
  const info: AccountInfo = {
    id: account.id,
    username: account.username,
    displayName: user.name,
    color: user.color,
    role: account.role,
    createdAt: account.createdAt,
  };
  if (user.avatar) info.avatar = user.avatar;
  return info;
}

/** A guest as they see themselves: no username, role `guest`. */
export function guestInfo(user: ChatUser, since: number): AccountInfo {
  const info: AccountInfo = { id: user.id, displayName: user.name, color: user.color, role: 'guest', createdAt: since };
  if (user.avatar) info.avatar = user.avatar;
  return info;
}

/** The answer for an account's session `sessionId`. */
export function accountSignIn(account: Account, user: ChatUser, sessionId: string, signing: OwnTokenSigning): SignInResult {
  return {
    user,
    token: connectionToken(user, signing, { ttlSeconds: ACCOUNT_TOKEN_TTL_SECONDS, sessionId }),
    account: accountInfo(account, user),
  };
}

/** The answer for a guest. */
export function guestSignIn(user: ChatUser, since: number, signing: OwnTokenSigning): SignInResult {
  return { user, token: connectionToken(user, signing, { ttlSeconds: GUEST_TOKEN_TTL_SECONDS }), account: guestInfo(user, since) };
}
