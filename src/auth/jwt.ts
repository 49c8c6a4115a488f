/**
 * Compact JSON Web Tokens (RFC 7515/7519): signing Parley's own HS256 tokens,
 * and the checks every token goes through before any key is looked at
 * (size, shape, header policy), with HMAC verification on `node:crypto`.
 * HMAC runs here rather than through WebCrypto because it is the hot path:
 * a synchronous HMAC costs a few microseconds, a WebCrypto one a thread hop.
 */

import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { checkRegisteredClaims } from './registered-claims.js';
import { TokenError } from './token-error.js';

export { TokenError, type TokenErrorKind } from './token-error.js';

/**
 * Largest token accepted, in characters. Checked before any parsing so an
 * oversized token costs nothing; 16 KiB leaves room for generous `info` and
 * permission claims while bounding the work one connect can cause.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** HMAC algorithms and their hashes: verified with `tokenSecret` only. */
export const HMAC_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['HS256', 'sha256'],
  ['HS384', 'sha384'],
  ['HS512', 'sha512'],
]);

/** Public-key algorithms: verified with configured public keys or the JWKS only. */
export const PUBLIC_KEY_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
]);

/**
 * Header parameters that would let a token choose its own key. They are
 * refused rather than ignored: no honest issuer needs them in a token
 * verified against keys the server already trusts.
 */
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/** `typ` values of a JWT (RFC 7519 §5.1, RFC 9068 access tokens), compared without case and `application/`. */
const JWT_TYPES: ReadonlySet<string> = new Set(['jwt', 'at+jwt']);

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A token that passed the structural and header checks; its signature is not checked yet. */
export interface ParsedToken {
  /** The token as given, for verifiers that parse it again. */
  readonly token: string;
  /** `alg`, one of {@link HMAC_ALGORITHMS} or {@link PUBLIC_KEY_ALGORITHMS}. */
  readonly alg: string;
  /** `kid`, when the header has one. */
  readonly kid: string | undefined;
  /** The decoded header. */
  readonly header: Readonly<Record<string, unknown>>;
  readonly headerPart: string;
  readonly payloadPart: string;
  readonly signaturePart: string;
}

/**
 * Signs `claims` as an HS256 JWT with header `{"alg":"HS256","typ":"JWT"}`.
 *
 * Guarantees: the result passes {@link parseToken} and {@link hmacMatches}
 * with the same secret; it throws a `RangeError` rather than return a token
 * longer than {@link MAX_TOKEN_LENGTH}, and a `TypeError` for an empty secret.
 */
export function signToken(claims: Record<string, unknown>, secret: string): string {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('token secret must be a non-empty string');
  const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  const token = `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new RangeError(`token would exceed ${MAX_TOKEN_LENGTH} characters`);
  }
  return token;
}

/** What the server signs its own tokens with (a `Config` fits). */
export interface OwnTokenSigning {
  readonly tokenSecret: string;
  /** Set as `iss` when not "": the server requires it of every token. */
  readonly tokenIssuer: string;
  /** Set as `aud` when not "": the server requires it of every token. */
  readonly tokenAudience: string;
}

/**
 * Signs one of the server's own tokens (web app, `/auth`, `parley token`):
 * HS256 with `tokenSecret`, carrying the `iss` and `aud` the server
 * requires, so that its own tokens pass its own checks.
 */
export function signOwnToken(claims: Record<string, unknown>, signing: OwnTokenSigning): string {
  const own = { ...claims };
  if (signing.tokenIssuer !== '') own.iss = signing.tokenIssuer;
  if (signing.tokenAudience !== '') own.aud = signing.tokenAudience;
  return signToken(own, signing.tokenSecret);
}

/**
 * Checks what can be checked without a key.
 *
 * Guarantees:
 * - the size cap is checked before any decoding;
 * - the token is three base64url parts (the signature part may be empty
 *   only so that an unsigned `alg: none` token is reported as the algorithm
 *   problem it is), and its header a JSON object;
 * - `alg` is a known signing algorithm, never `none`; `kid`, when present,
 *   is a string; `typ`, when present, names a JWT;
 * - `crit` and the key-carrying headers `jwk`, `jku`, `x5u`, `x5c` are refused.
 *
 * @throws TokenError of kind `malformed`, `algorithm` or `header`.
 */
export function parseToken(token: string): ParsedToken {
  if (typeof token !== 'string') throw malformed('token is not a string');
  if (token.length > MAX_TOKEN_LENGTH) throw malformed(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('token does not have three parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!isBase64url(headerPart, false) || !isBase64url(payloadPart, false) || !isBase64url(signaturePart, true)) {
    throw malformed('token parts are not base64url');
  }
  const header = decodeObject(headerPart, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(HMAC_ALGORITHMS.has(alg) || PUBLIC_KEY_ALGORITHMS.has(alg))) {
    throw new TokenError('algorithm', 'token algorithm is not supported');
  }
  // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; none are.
  if (Object.hasOwn(header, 'crit')) throw new TokenError('header', 'token has unsupported critical header parameters');
  if (KEY_CARRYING_HEADERS.some((name) => Object.hasOwn(header, name))) {
    throw new TokenError('header', 'token must not carry its own key (jwk, jku, x5u, x5c)');
  }
  if (Object.hasOwn(header, 'typ') && !isJwtType(header.typ)) throw new TokenError('header', 'token type must be JWT');
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== 'string') throw malformed('token header "kid" is not a string');
  if (signaturePart.length === 0 || !isCanonical(signaturePart)) throw new TokenError('signature', 'token signature is invalid');
  return { token, alg, kid, header, headerPart, payloadPart, signaturePart };
}

/**
 * Verifies an HMAC token (HS256, HS384, HS512) with `secret` and returns its
 * claims, checking `exp` and `nbf` (see `checkRegisteredClaims`) but no
 * issuer or audience: for reading Parley's own tokens. Connection and
 * subscription tokens go through `TokenVerifier`, which knows every key.
 *
 * @throws TokenError for a refused token; `TypeError` for an empty secret.
 */
export function verifyToken(token: string, secret: string, nowSeconds: number = Date.now() / 1000): Record<string, unknown> {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('token secret must be a non-empty string');
  const parsed = parseToken(token);
  if (!HMAC_ALGORITHMS.has(parsed.alg)) throw new TokenError('algorithm', 'token algorithm must be HS256, HS384 or HS512');
  if (!hmacMatches(parsed, createSecretKey(Buffer.from(secret, 'utf8')))) throw new TokenError('signature', 'token signature is invalid');
  const claims = payloadOf(parsed);
  checkRegisteredClaims(claims, ANY_ISSUER, nowSeconds);
  return claims;
}

const ANY_ISSUER = Object.freeze({ issuer: '', audience: '' });

/**
 * Whether the token's HMAC signature was made with `key`, compared in
 * constant time. `parsed.alg` must be one of {@link HMAC_ALGORITHMS}.
 */
export function hmacMatches(parsed: ParsedToken, key: KeyObject): boolean {
  const hash = HMAC_ALGORITHMS.get(parsed.alg);
  if (hash === undefined) return false;
  const expected = createHmac(hash, key).update(`${parsed.headerPart}.${parsed.payloadPart}`).digest();
  const given = Buffer.from(parsed.signaturePart, 'base64url');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The claims of a token whose signature was verified. @throws TokenError `malformed` when they are not a JSON object. */
export function payloadOf(parsed: ParsedToken): Record<string, unknown> {
  return decodeObject(parsed.payloadPart, 'payload');
}

function isJwtType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return JWT_TYPES.has(lower.startsWith('application/') ? lower.slice('application/'.length) : lower);
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Unpadded base64url; a length of 1 mod 4 cannot come from any byte string. */
function isBase64url(part: string, allowEmpty: boolean): boolean {
  if (part.length === 0) return allowEmpty;
  return part.length % 4 !== 1 && BASE64URL.test(part);
}

/**
 * Only the canonical encoding of a signature is accepted (unused trailing
 * bits zero), so one signature has one spelling and tokens cannot be
 * varied without the key.
 */
function isCanonical(part: string): boolean {
  return Buffer.from(part, 'base64url').toString('base64url') === part;
}

function decodeObject(part: string, what: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(part, 'base64url')));
  } catch {
    throw malformed(`token ${what} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function malformed(message: string): TokenError {
  return new TokenError('malformed', message);
}
