/**
 * Signing up, signing in and out, renewing connection tokens, and a guest
 * claiming their identity (`/app/signup`, `/app/signin`, `/app/token`,
 * `/app/signout`, `/app/signout-everywhere`, `/app/claim`).
 *
 * No answer tells whether a username exists to someone who does not know
 * its password: a wrong password and an unknown username get byte-identical
 * refusals after the same work (one scrypt derivation). Sign-up must say
 * that a name is taken; it is throttled per address like sign-in, and with
 * invitations it only says so to someone holding a valid invitation.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomColor, randomUserId } from '../chat/names.js';
import { displayNameField } from '../chat/profile-fields.js';
import type { ChatUser, SignInResult } from '../chat/protocol.js';
import { disconnectUserEverywhere } from '../cluster/user-disconnect.js';
import { bodyOf, HttpError, optionalString, requiredString } from '../http/app-errors.js';
import { admit, tryAgainIn } from '../http/address-limit.js';
import { Disconnects } from '../protocol/errors.js';
import { admitPasswordAttempt, counted, requireSignedIn, sessionOf, type AccountRoutesContext, type SignedIn } from './account-context.js';
import { inviteRefusal, type Account, type InviteRefusal } from './account-store.js';
import { deviceName } from './device-name.js';
import { hashPassword, needsRehash, passwordProblem, verifyAgainstNothing, verifyPassword } from './password.js';
import { clearSessionCookie, newRefreshToken, refreshTokenHash, sessionCookieOf, setSessionCookie } from './session-cookie.js';
import { accountSignIn, accountUser, guestSignIn } from './sign-in-result.js';
import { checkUsername } from './username.js';

/** Largest body of these routes: names, passwords, an invite code or a token. */
const BODY_LIMIT = 4 * 1024;

const WRONG_CREDENTIALS = 'Wrong username or password';

const INVITE_PROBLEMS: Readonly<Record<InviteRefusal | 'missing', string>> = {
  missing: 'Signing up on this server needs an invitation; ask an admin for an invitation link',
  unknown: 'That invitation link is not valid; ask an admin for a new one',
  expired: 'That invitation link has expired; ask an admin for a new one',
  'used-up': 'That invitation link has been used as often as it allows; ask an admin for a new one',
};

/** SHA-256 hex of an invite code: the only form in which it is stored. */
export function inviteCodeHash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export function registerAccountRoutes(app: FastifyInstance, context: AccountRoutesContext): void {
  const { config, accounts, chat } = context;
  const refreshes = context.tokenRefreshes;

  /** Stores a new session for the account, sets the cookie and answers as it. */
  const startSession = async (request: FastifyRequest, reply: FastifyReply, account: Account, user: ChatUser): Promise<SignInResult> => {
    const refreshToken = newRefreshToken();
    const now = Date.now();
    const session = await accounts.createSession({
      tokenHash: refreshTokenHash(refreshToken),
      accountId: account.id,
      device: deviceName(request.headers['user-agent']),
      now,
      expiresAt: now + config.sessionTtl * 1000,
    });
    setSessionCookie(request, reply, refreshToken, config.sessionTtl);
    return accountSignIn(account, user, session.id, config);
  };

  /** A username and password as typed. @throws HttpError 400 naming the problem. */
  const credentialsOf = (body: Record<string, unknown>): { username: string; password: string } => {
    const checked = checkUsername(requiredString(body, 'username'));
    if (!checked.ok) throw new HttpError(400, capitalized(checked.problem));
    const password = requiredString(body, 'password');
    const problem = passwordProblem(password);
    if (problem) throw new HttpError(400, capitalized(problem));
    return { username: checked.username, password };
  };

  app.post('/signup', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    if (config.authMode !== 'open' && config.authMode !== 'invite') throw new HttpError(403, 'Signing up is turned off on this server');
    const body = bodyOf(request.body);
    const invite = config.authMode === 'invite' ? optionalString(body, 'invite') : undefined;
    const { username, password } = credentialsOf(body);
    const displayName = displayNameField(body.displayName) ?? username;
    await admitPasswordAttempt(context.passwordLimits, request, reply);
    const result = await counted(context, reply, async () => {
      const codeHash = invite === undefined ? undefined : inviteCodeHash(invite);
      if (config.authMode === 'invite') await checkInvite(codeHash);
      const now = Date.now();
      const created = await accounts.createAccount({
        id: randomUserId('u_'),
        username,
        displayName,
        passwordHash: await hashPassword(password),
        now,
        ...(codeHash === undefined ? {} : { inviteCodeHash: codeHash }),
      });
      if (!created.ok) {
        if (created.reason === 'invite') throw new HttpError(403, INVITE_PROBLEMS[created.invite]);
        if (created.reason === 'username-taken') throw new HttpError(409, 'That username is taken');
        throw new Error('a fresh user id was taken');
      }
      const user: ChatUser = { id: created.account.id, name: displayName, color: randomColor(), username: created.account.username };
      await chat.upsertUser(user, now);
      return startSession(request, reply, created.account, user);
    });
    return reply.code(201).send(result);
  });

  /** Refuses an invitation that cannot be redeemed now, before anything else about the sign-up is answered. */
  const checkInvite = async (codeHash: string | undefined): Promise<void> => {
    if (codeHash === undefined) throw new HttpError(403, INVITE_PROBLEMS.missing);
    const invite = (await accounts.listInvites()).find((candidate) => candidate.codeHash === codeHash);
    const refusal = inviteRefusal(invite, Date.now());
    if (refusal) throw new HttpError(403, INVITE_PROBLEMS[refusal]);
  };

  app.post('/signin', { bodyLimit: BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
    if (config.authMode === 'token') throw new HttpError(403, 'Sign in through your organisation on this server');
    const body = bodyOf(request.body);
    const username = requiredString(body, 'username');
    const password = requiredString(body, 'password');
    await admitPasswordAttempt(context.passwordLimits, request, reply, username);
    return counted(context, reply, async () => {
      const checked = checkUsername(username);
      const account = checked.ok ? await accounts.findByUsername(checked.username) : undefined;
      // The same work whether or not the name exists, so neither the answer nor its timing tells.
      const matches = account ? await verifyPassword(password, account.passwordHash) : await verifyAgainstNothing(password);
      if (!account || !matches) throw new HttpError(401, WRONG_CREDENTIALS);
      if (account.deactivatedAt !== undefined) throw new HttpError(403, 'This account has been deactivated');
      if (needsRehash(account.passwordHash)) await accounts.setPassword(account.id, await hashPassword(password), account.passwordChangedAt);
      return startSession(request, reply, account, await accountUser(chat, account));
    });
  });

  app.post('/token', { bodyLimit: BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
    const wait = await admit(refreshes, request.ip, reply);
    if (wait !== undefined) throw new HttpError(429, `Too many requests from your address; ${tryAgainIn(wait)}`);
    // Apps from before the cookie send their refresh token in the body; the cookie set below lets them forget it.
    const refreshToken = sessionCookieOf(request) ?? legacyRefreshToken(request.body);
    return counted(context, reply, async () => {
      const signedIn = refreshToken === undefined ? undefined : await sessionOf(context, refreshToken);
      if (!signedIn) {
        clearSessionCookie(request, reply);
        throw new HttpError(401, 'Your session has ended; sign in again');
      }
      // The cookie's lifetime slides with the session's.
      setSessionCookie(request, reply, signedIn.refreshToken, config.sessionTtl);
      return signInResultOf(signedIn);
    });
  });

  const signInResultOf = async (signedIn: SignedIn): Promise<SignInResult> =>
    signedIn.kind === 'account'
      ? accountSignIn(signedIn.account, await accountUser(chat, signedIn.account), signedIn.session.id, config)
      : guestSignIn(signedIn.user, signedIn.since, config);

  app.post('/signout', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const refreshToken = sessionCookieOf(request) ?? legacyRefreshToken(request.body);
    await counted(context, reply, async () => {
      if (refreshToken === undefined) return;
      const signedIn = await sessionOf(context, refreshToken);
      if (signedIn?.kind === 'account') {
        await accounts.revokeSession(refreshTokenHash(refreshToken));
        await disconnectUserEverywhere(context.disconnects, signedIn.account.id, Disconnects.signedOut, { accountSession: signedIn.session.id });
      } else {
        await chat.revokeGuestSession(refreshTokenHash(refreshToken));
      }
    });
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  app.post('/signout-everywhere', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    await counted(context, reply, async () => {
      const signedIn = await requireSignedIn(context, request);
      if (signedIn.kind === 'account') await accounts.revokeAllSessions(signedIn.account.id);
      else await chat.revokeGuestSession(signedIn.tokenHash);
      const user = signedIn.kind === 'account' ? signedIn.account.id : signedIn.user.id;
      await disconnectUserEverywhere(context.disconnects, user, Disconnects.signedOut);
    });
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  app.post('/claim', { bodyLimit: BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
    if (config.authMode === 'token') throw new HttpError(403, 'Accounts are managed by your organisation on this server');
    // On an invite-only server, guests left from before may keep chatting but not make themselves an account without an invitation.
    if (config.authMode === 'invite') throw new HttpError(403, 'This server is invite-only: ask an admin for an invitation to create an account');
    const { username, password } = credentialsOf(bodyOf(request.body));
    await admitPasswordAttempt(context.passwordLimits, request, reply);
    return counted(context, reply, async () => {
      const signedIn = await requireSignedIn(context, request);
      if (signedIn.kind !== 'guest') throw new HttpError(409, 'You already have an account');
      const guest = signedIn.user;
      const now = Date.now();
      // A claim never makes the first admin: anyone can be a guest, and the server's admin is made by sign-up in open mode or by `parley admin create`.
      const created = await accounts.createAccount({ id: guest.id, username, displayName: guest.name, passwordHash: await hashPassword(password), now, firstMayBeAdmin: false });
      if (!created.ok) {
        if (created.reason === 'username-taken') throw new HttpError(409, 'That username is taken');
        throw new HttpError(409, 'This identity already has an account; sign in with its username');
      }
      const user: ChatUser = { ...guest, username: created.account.username };
      await chat.upsertUser(user, now);
      await chat.revokeGuestSession(signedIn.tokenHash);
      return startSession(request, reply, created.account, user);
    });
  });
}

/** The refresh token of an app from before the session cookie, sent in the body. */
function legacyRefreshToken(body: unknown): string | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).refreshToken : undefined;
  return typeof value === 'string' && value !== '' && value.length <= 128 ? value : undefined;
}

function capitalized(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}
