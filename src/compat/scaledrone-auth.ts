/**
 * `POST /auth` of the Scaledrone chat tutorial: a client posts its client id
 * as a form and gets back, as plain text, a JWT that lets it into the
 * tutorial's rooms. The token is a Parley connection token (the `client`
 * claim is the user, `data` the connection info), so the client connects to
 * `/connection/websocket` with it.
 */
import { createHmac } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signOwnToken } from '../auth/jwt.js';
import { NAME_ADJECTIVES, NAME_NOUNS, USER_COLORS } from '../chat/names.js';
import { cleanDisplayName, isHexColor } from '../chat/profile.js';
import { MAX_DISPLAY_NAME_LENGTH } from '../chat/protocol.js';
import type { Config } from '../config/types.js';
import { admit, memoryAddressLimiters, tryAgainIn, type AddressLimiters } from '../http/address-limit.js';
import type { Logger } from '../log/logger.js';
import {
  FormBodyError,
  multipartBoundary,
  parseMultipart,
  parseUrlEncoded,
  type FormFields,
} from './form-body.js';

/** The `channel` claim: Scaledrone's channel id, here a fixed name for this kind of deployment. */
export const AUTH_CHANNEL_ID = 'parley';
/** Lifetime of the tokens, as in the tutorial. */
export const AUTH_TOKEN_TTL_SECONDS = 3 * 60;
/** Longest client id, in characters. */
export const MAX_CLIENT_ID_LENGTH = 64;
/** Largest `/auth` request body: a client id and perhaps a name and a color, with multipart framing. */
export const AUTH_BODY_LIMIT = 8 * 1024;
/** The tutorial's public room. */
export const PUBLIC_ROOM = 'observable-room';

const NO_CLIENT_ID = 'No clientID defined';
// Letters, digits, punctuation and symbols of any script; no whitespace, control or format characters.
const CLIENT_ID_CHARS = /^[^\s\p{C}]+$/u;

/** One entry of the `permissions` claim. */
export interface RoomPermission {
  publish: boolean;
  subscribe: boolean;
}

/** The connection info every member of the rooms sees (`member.authData` in Scaledrone). */
export interface AuthData {
  name: string;
  color: string;
}

/** An answer with an error status and a plain-text message, as the tutorial's `http.Error`. */
class AuthError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** `text` with every regular-expression metacharacter escaped, so it matches itself only. */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * The tutorial's permissions for a client: publish and subscribe in the
 * public room, subscribe only to its own private room (where others send it
 * private messages), publish only to everyone else's.
 */
export function tutorialPermissions(clientId: string): Record<string, RoomPermission> {
  const id = escapeRegExp(clientId);
  return {
    [`^${PUBLIC_ROOM}$`]: { publish: true, subscribe: true },
    [`^private-room-${id}$`]: { publish: false, subscribe: true },
    [`^private-room-(?!${id}$).+$`]: { publish: true, subscribe: false },
  };
}

/** The claims of a token for `clientId`, shaped as the tutorial's. */
export function authClaims(clientId: string, data: AuthData, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    client: clientId,
    channel: AUTH_CHANNEL_ID,
    data,
    permissions: tutorialPermissions(clientId),
    exp: nowSeconds + AUTH_TOKEN_TTL_SECONDS,
  };
}

/**
 * Why a client id is refused, or undefined when it is fine: 1 to
 * {@link MAX_CLIENT_ID_LENGTH} printable characters without whitespace. Ids
 * with a colon (the form of namespaced channel names and of `/ws` users' ids)
 * and ids starting with `g_` or `u_` (web app guests' and accounts' ids) are refused too: the
 * client id becomes the connection's user, and these would let anyone speak
 * as an existing chat user.
 */
export function clientIdProblem(clientId: string): string | undefined {
  const length = [...clientId].length;
  if (length > MAX_CLIENT_ID_LENGTH || !CLIENT_ID_CHARS.test(clientId)) {
    return `clientID must be 1 to ${MAX_CLIENT_ID_LENGTH} printable characters without whitespace`;
  }
  if (clientId.includes(':')) return 'clientID must not contain ":"';
  if (clientId.startsWith('g_')) return 'clientID must not start with "g_"';
  if (clientId.startsWith('u_')) return 'clientID must not start with "u_"';
  return undefined;
}

export interface AuthRouteOptions {
  config: Config;
  logger: Logger;
  /** Where the limit counts. @default memoryAddressLimiters */
  addressLimiters?: AddressLimiters;
}

/**
 * Registers `POST /auth`. The body is a form (URL-encoded or multipart, as
 * the tutorial's `FormData` sends it; JSON is read too) with `clientID` and,
 * optionally, `name` and `color` (`#rrggbb`) to use instead of the ones
 * {@link assignedData} picks.
 * Like Go's `FormValue`, a field missing from the body is looked for in the
 * query string.
 *
 * Answers: 200 with the token as plain text; 422 `No clientID defined` (or
 * another plain-text reason) for a missing or invalid field; 400 for a
 * malformed body; 429 with `Retry-After` when one address asks more often
 * than `tokenRequestBurst`/`tokenRequestsPerMinute` allow; 403 while guest sign-in is
 * off, since this endpoint hands an identity to anyone who asks.
 */
export async function registerAuthRoute(http: FastifyInstance, options: AuthRouteOptions): Promise<void> {
  const { config, logger } = options;
  // Clients ask again every three minutes, so an office behind one address asks often: the token request limit.
  const limiter = (options.addressLimiters ?? memoryAddressLimiters)('seed-auth', { burst: config.tokenRequestBurst, perMinute: config.tokenRequestsPerMinute });

  await http.register(async (app) => {
    // Parsers registered here apply to this plugin's route only.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: AUTH_BODY_LIMIT }, (_request, body, done) => {
      try {
        done(null, parseUrlEncoded(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: AUTH_BODY_LIMIT }, (request, body, done) => {
      try {
        done(null, parseMultipart(body as Buffer, multipartBoundary(request.headers['content-type'])));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    // Like Go's form parsing, a body of any other type holds no form fields.
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: AUTH_BODY_LIMIT }, (_request, _body, done) => done(null, undefined));

    app.setErrorHandler((error: FastifyError | AuthError | FormBodyError, request, reply) => {
      if (error instanceof FormBodyError) return plain(reply, 400, `Malformed form data: ${error.message}`);
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
      if (status >= 500 && !(error instanceof AuthError)) logger.error({ err: error, path: request.routeOptions.url }, 'auth route failed');
      return plain(reply, status, error instanceof AuthError ? error.message : publicMessage(status));
    });

    app.post('/auth', { bodyLimit: AUTH_BODY_LIMIT }, async (request, reply) => {
      // Seed clients work with a plain `npm start` (open) and in the guest demo, not where an admin or a backend decides who joins.
      if (config.authMode !== 'open' && config.authMode !== 'guest') throw new AuthError(403, 'Token issuance is turned off on this server');
      const wait = await admit(limiter, request.ip, reply);
      if (wait !== undefined) throw new AuthError(429, `Too many requests from your address; ${tryAgainIn(wait)}`);
      const field = fieldReader(request);
      const clientId = field('clientID');
      if (clientId === undefined || clientId === '') throw new AuthError(422, NO_CLIENT_ID);
      const problem = clientIdProblem(clientId);
      if (problem) throw new AuthError(422, problem);
      const assigned = assignedData(clientId, config.tokenSecret);
      const data: AuthData = { name: nameOf(field('name')) ?? assigned.name, color: colorOf(field('color')) ?? assigned.color };
      const token = signOwnToken(authClaims(clientId, data), config);
      reply.header('cache-control', 'no-store');
      return plain(reply, 200, token);
    });
  });
}

function plain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(text);
}

/** A field of the body, else of the query string; undefined when absent or not text. */
function fieldReader(request: FastifyRequest): (name: string) => string | undefined {
  const body = fieldsOf(request.body);
  const query = (request.query ?? {}) as Record<string, unknown>;
  return (name) => body.get(name) ?? first(query[name]);
}

function fieldsOf(body: unknown): FormFields {
  if (body instanceof Map) return body as FormFields;
  const fields = new Map<string, string>();
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields.set(name, value);
  }
  return fields;
}

function first(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/**
 * The name and color of a client that chose none: an `adjective_noun` name
 * and a palette color, as random as the tutorial's to anyone who does not
 * know the server's secret, but the same for the same client id every time,
 * so a client keeps them when it renews its token or reconnects.
 */
export function assignedData(clientId: string, secret: string): AuthData {
  const digest = createHmac('sha256', secret).update(`seed-auth-data\n${clientId}`).digest();
  return {
    name: `${NAME_ADJECTIVES[digest.readUInt32BE(0) % NAME_ADJECTIVES.length]}_${NAME_NOUNS[digest.readUInt32BE(4) % NAME_NOUNS.length]}`,
    color: USER_COLORS[digest.readUInt32BE(8) % USER_COLORS.length] as string,
  };
}

/** A chosen name, cleaned; undefined when none was given (or it is blank). */
function nameOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const cleaned = cleanDisplayName(value);
  if ('problem' in cleaned) {
    throw new AuthError(422, cleaned.problem === 'too-long' ? `name must have at most ${MAX_DISPLAY_NAME_LENGTH} characters` : 'name must not contain control characters');
  }
  return cleaned.name === '' ? undefined : cleaned.name;
}

/** A chosen `#rrggbb` color, lower-cased; undefined when none was given (or it is blank). */
function colorOf(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!isHexColor(value.trim())) throw new AuthError(422, 'color must be a hex color such as #1c7ed6');
  return value.trim().toLowerCase();
}

function publicMessage(status: number): string {
  switch (status) {
    case 400:
      return 'Malformed request';
    case 413:
      return 'Request too large';
    default:
      return status >= 500 ? 'Unable to sign the token' : 'Request refused';
  }
}
