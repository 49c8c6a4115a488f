import { createHash, randomBytes } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { signToken } from '../auth/jwt.js';
import type { Config } from '../config/types.js';
import { admit, memoryAddressLimiters, tryAgainIn, type AddressLimiters } from '../http/address-limit.js';
import type { Logger } from '../log/logger.js';
import type { ChatStore } from './chat-store.js';
import type { InFlight } from './in-flight.js';
import { randomColor, randomName } from './names.js';
import { cleanDisplayName } from './profile.js';
import { MAX_DISPLAY_NAME_LENGTH, MAX_MESSAGE_LENGTH, type AppConfig, type ChatUser, type SignInResult } from './protocol.js';

/** Largest request body of the `/app` routes: they take a name, an email or a token. */
export const APP_BODY_LIMIT = 4 * 1024;
/** Lifetime of connection tokens issued to guests; the app refreshes them with the refresh token. */
export const GUEST_TOKEN_TTL_SECONDS = 60 * 60;

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;

/** What {@link registerAppRoutes} works with. */
export interface AppRoutesOptions {
  config: Config;
  store: ChatStore;
  inFlight: InFlight;
  logger: Logger;
  /** Where sign-in and token refresh limits count. @default memoryAddressLimiters */
  addressLimiters?: AddressLimiters;
}

/** An answer with an error status; its message is shown to the user. */
class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** SHA-256 hex of a refresh token: the only form in which it is stored. */
export function refreshTokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

/**
 * The web app's sign-in routes:
 * - `GET /app/config` → {@link AppConfig};
 * - `POST /app/guest` → {@link SignInResult}: a guest identity with a random
 *   id, the chosen (or a random) name, a palette color, and from an optional
 *   email only its Gravatar MD5 hash — the email itself is neither stored,
 *   logged nor sent anywhere;
 * - `POST /app/token` `{refreshToken}` → `{token, user}` while the guest
 *   session lives (30 days after its last use);
 * - `POST /app/signout` `{refreshToken}` → 204; the refresh token stops working.
 *
 * Errors are JSON `{error}` with a message for the user. Tokens, refresh
 * tokens and emails never appear in logs.
 */
export async function registerAppRoutes(http: FastifyInstance, options: AppRoutesOptions): Promise<void> {
  const { config, store, inFlight, logger } = options;
  // Per client address: a whole office behind one NAT signs in at once; a flood is cut to the sustained rate.
  const limiters = options.addressLimiters ?? memoryAddressLimiters;
  const signIns = limiters('sign-in', { burst: config.guestSignInBurst, perMinute: config.guestSignInsPerMinute });
  // A refresh token cannot be guessed; this bounds the work one address can cause.
  const refreshes = limiters('token-refresh', { burst: config.tokenRequestBurst, perMinute: config.tokenRequestsPerMinute });

  const connectionToken = (user: ChatUser): string => {
    const info: Record<string, string> = { name: user.name, color: user.color };
    if (user.avatar) info.avatar = user.avatar;
    const now = Math.floor(Date.now() / 1000);
    return signToken({ sub: user.id, info, iat: now, exp: now + GUEST_TOKEN_TTL_SECONDS }, config.tokenSecret);
  };

  /** Runs a handler counted for shutdown; refused with 503 once shutdown began. */
  const counted = async <T>(reply: FastifyReply, handler: () => Promise<T>): Promise<T> => {
    if (inFlight.isClosed) throw new HttpError(503, 'The server is shutting down; try again in a moment');
    reply.header('cache-control', 'no-store');
    return inFlight.run(handler);
  };

  await http.register(
    async (app) => {
      app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
        const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
        if (status >= 500 && !(error instanceof HttpError)) {
          // Only the error: the request body may hold an email or a token.
          logger.error({ err: error, path: request.routeOptions.url }, 'app route failed');
        }
        return reply.code(status).send({ error: publicMessage(error, status) });
      });
      app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not found' }));

      app.get('/config', async (): Promise<AppConfig> => {
        const answer: AppConfig = { guestSignIn: config.guestSignIn, maxMessageLength: MAX_MESSAGE_LENGTH };
        if (config.tokenUrl !== '') answer.tokenUrl = config.tokenUrl;
        return answer;
      });

      app.post('/guest', { bodyLimit: APP_BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
        if (!config.guestSignIn) throw new HttpError(403, 'Guest sign-in is turned off on this server');
        const wait = await admit(signIns, request.ip, reply);
        if (wait !== undefined) throw new HttpError(429, `Too many sign-ins from your address; ${tryAgainIn(wait)}`);
        const body = bodyOf(request.body);
        const name = guestName(body.name);
        const avatar = gravatarHash(body.email);
        const user: ChatUser = { id: `g_${randomId()}`, name, color: randomColor() };
        if (avatar) user.avatar = avatar;
        const refreshToken = randomBytes(32).toString('base64url');
        return counted(reply, async () => {
          const now = Date.now();
          await Promise.all([store.upsertUser(user, now), store.createGuestSession(refreshTokenHash(refreshToken), user, now)]);
          return { user, token: connectionToken(user), refreshToken };
        });
      });

      app.post('/token', { bodyLimit: APP_BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
        if (!config.guestSignIn) throw new HttpError(403, 'Guest sign-in is turned off on this server');
        const wait = await admit(refreshes, request.ip, reply);
        if (wait !== undefined) throw new HttpError(429, `Too many requests from your address; ${tryAgainIn(wait)}`);
        const refreshToken = refreshTokenOf(request.body);
        return counted(reply, async () => {
          const user = await store.useGuestSession(refreshTokenHash(refreshToken), Date.now());
          if (!user) throw new HttpError(401, 'Your guest session has ended; sign in again');
          return { user, token: connectionToken(user) };
        });
      });

      app.post('/signout', { bodyLimit: APP_BODY_LIMIT }, async (request, reply) => {
        const refreshToken = refreshTokenOf(request.body);
        await counted(reply, () => store.revokeGuestSession(refreshTokenHash(refreshToken)));
        return reply.code(204).send();
      });
    },
    { prefix: '/app' },
  );
}

function bodyOf(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'The request body must be a JSON object');
  return body as Record<string, unknown>;
}

function refreshTokenOf(body: unknown): string {
  const value = bodyOf(body).refreshToken;
  if (typeof value !== 'string' || value === '') throw new HttpError(400, 'refreshToken must be a non-empty string');
  return value;
}

function guestName(value: unknown): string {
  if (value === undefined || value === null) return randomName();
  if (typeof value !== 'string') throw new HttpError(400, 'name must be a string');
  const cleaned = cleanDisplayName(value);
  if ('problem' in cleaned) {
    throw new HttpError(
      400,
      cleaned.problem === 'too-long'
        ? `Your name is longer than ${MAX_DISPLAY_NAME_LENGTH} characters`
        : 'Your name cannot contain control characters',
    );
  }
  return cleaned.name === '' ? randomName() : cleaned.name;
}

/** The Gravatar hash of an optional email; the email itself goes no further than this function. */
function gravatarHash(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'email must be a string');
  const email = value.trim().toLowerCase();
  if (email === '') return undefined;
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw new HttpError(400, 'That email address does not look right; check it or leave it empty');
  }
  return createHash('md5').update(email).digest('hex');
}

/** 16 base-36 characters from 80 random bits. */
function randomId(): string {
  return BigInt(`0x${randomBytes(10).toString('hex')}`).toString(36).padStart(16, '0');
}

/**
 * What a user is told. Framework errors get a fixed text: some (a JSON syntax
 * error) quote the request body, which may hold an email or a token.
 */
function publicMessage(error: Error, status: number): string {
  if (error instanceof HttpError) return error.message;
  switch (status) {
    case 400:
      return 'The request body must be valid JSON';
    case 413:
      return 'The request is too large';
    case 415:
      return 'Send the request body as JSON (content-type: application/json)';
    default:
      return status >= 500 ? 'Something went wrong on the server; try again' : 'The request was refused';
  }
}
