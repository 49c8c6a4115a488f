/**
 * What the account routes share: their parts, who the request is signed in
 * as (from the session cookie), password attempt limits, and running a
 * handler counted for shutdown.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatStore } from '../chat/chat-store.js';
import type { InFlight } from '../chat/in-flight.js';
import type { ChatUser } from '../chat/protocol.js';
import type { UserDisconnectParts } from '../cluster/user-disconnect.js';
import type { Config } from '../config/types.js';
import { HttpError } from '../http/app-errors.js';
import { admit, tryAgainIn, type AddressLimiter, type AddressLimiters } from '../http/address-limit.js';
import type { Logger } from '../log/logger.js';
import type { Account, AccountStore, Session } from './account-store.js';
import { refreshTokenHash, sessionCookieOf } from './session-cookie.js';
import { usernameKey } from './username.js';

/** Password attempts one username may take across all addresses: this many at once… */
const ACCOUNT_ATTEMPT_BURST = 10;
/** …then this many a minute. */
const ACCOUNT_ATTEMPTS_PER_MINUTE = 5;

export interface AccountRoutesContext {
  config: Config;
  accounts: AccountStore;
  chat: ChatStore;
  inFlight: InFlight;
  logger: Logger;
  /** Closes users' connections on every node. */
  disconnects: UserDisconnectParts;
  passwordLimits: PasswordLimits;
  /** Token renewals (`POST /app/token`) per client address. */
  tokenRefreshes: AddressLimiter;
}

/** Password attempts counted per client address and per username. */
export interface PasswordLimits {
  byAddress: AddressLimiter;
  byAccount: AddressLimiter;
}

export function passwordLimits(config: Config, limiters: AddressLimiters): PasswordLimits {
  return {
    byAddress: limiters('password', { burst: config.passwordAttemptBurst, perMinute: config.passwordAttemptsPerMinute }),
    byAccount: limiters('password-account', { burst: ACCOUNT_ATTEMPT_BURST, perMinute: ACCOUNT_ATTEMPTS_PER_MINUTE }),
  };
}

/**
 * Counts a password attempt from the request's address and, when given,
 * for the username (by its key, so every spelling shares one budget).
 * @throws HttpError 429 (with `Retry-After`) when either budget is spent.
 */
export async function admitPasswordAttempt(limits: PasswordLimits, request: FastifyRequest, reply: FastifyReply, username?: string): Promise<void> {
  const wait = await admit(limits.byAddress, request.ip, reply);
  if (wait !== undefined) throw new HttpError(429, `Too many attempts from your address; ${tryAgainIn(wait)}`);
  if (username === undefined) return;
  const accountWait = await admit(limits.byAccount, usernameKey(username), reply);
  if (accountWait !== undefined) throw new HttpError(429, `Too many attempts for this username; ${tryAgainIn(accountWait)}`);
}

/** Who a request is signed in as. */
export type SignedIn =
  | { kind: 'account'; account: Account; session: Session; refreshToken: string }
  | { kind: 'guest'; user: ChatUser; since: number; tokenHash: string; refreshToken: string };

/**
 * The live session of a refresh token: an account's (its expiry slid to
 * `sessionTtl` from now) or a guest's (with the guest's current profile).
 * Undefined when there is none: revoked, expired, or the account deactivated.
 */
export async function sessionOf(context: AccountRoutesContext, refreshToken: string): Promise<SignedIn | undefined> {
  const now = Date.now();
  const tokenHash = refreshTokenHash(refreshToken);
  const used = await context.accounts.useSession(tokenHash, now, now + context.config.sessionTtl * 1000);
  if (used) return { kind: 'account', ...used, refreshToken };
  const guest = await context.chat.useGuestSession(tokenHash, now);
  if (!guest) return undefined;
  const current = (await context.chat.getUser(guest.id)) ?? guest;
  return { kind: 'guest', user: current, since: now, tokenHash, refreshToken };
}

/**
 * Who the request's cookie signs in.
 * @throws HttpError 401 when it signs in nobody.
 */
export async function requireSignedIn(context: AccountRoutesContext, request: FastifyRequest): Promise<SignedIn> {
  const refreshToken = sessionCookieOf(request);
  const signedIn = refreshToken === undefined ? undefined : await sessionOf(context, refreshToken);
  if (!signedIn) throw new HttpError(401, 'You are not signed in; sign in again');
  return signedIn;
}

/**
 * Who the request's cookie signs in, as an account.
 * @throws HttpError 401 when it signs in nobody, 403 for a guest.
 */
export async function requireAccount(context: AccountRoutesContext, request: FastifyRequest): Promise<Extract<SignedIn, { kind: 'account' }>> {
  const signedIn = await requireSignedIn(context, request);
  if (signedIn.kind !== 'account') throw new HttpError(403, 'Guests have no account; set a password to keep your identity first');
  return signedIn;
}

/** Runs a handler counted for shutdown, its answer never cached; 503 once shutdown began. */
export async function counted<T>(context: AccountRoutesContext, reply: FastifyReply, handler: () => Promise<T>): Promise<T> {
  if (context.inFlight.isClosed) throw new HttpError(503, 'The server is shutting down; try again in a moment');
  reply.header('cache-control', 'no-store');
  return context.inFlight.run(handler);
}
