/**
 * HS256 JSON Web Tokens (compact JWS, RFC 7515/7519) with `node:crypto` only.
 * One algorithm on purpose: accepting anything the header names is how
 * `alg: none` and key-confusion forgeries get through.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { TokenError } from './token-error.js';

export { TokenError, type TokenErrorKind } from './token-error.js';

/**
 * Largest token accepted, in characters. Checked before any parsing so an
 * oversized token costs nothing; 16 KiB leaves room for generous `info` and
 * permission claims while bounding the work one connect can cause.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Signs `claims` as an HS256 JWT with header `{"alg":"HS256","typ":"JWT"}`.
 *
 * Guarantees: the result is accepted by {@link verifyToken} with the same
 * secret (until its `exp`, from its `nbf`); it throws a `RangeError` rather
 * than return a token longer than {@link MAX_TOKEN_LENGTH}, and a
 * `TypeError` for an empty secret.
 */
export function signToken(claims: Record<string, unknown>, secret: string): string {
  checkSecret(secret);
  const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  const token = `${signingInput}.${hmac(signingInput, secret)}`;
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new RangeError(`token would exceed ${MAX_TOKEN_LENGTH} characters`);
  }
  return token;
}

/**
 * Verifies an HS256 JWT and returns its claims.
 *
 * Guarantees:
 * - the size cap is checked before any decoding;
 * - only a header with `alg` exactly `HS256` (and `typ`, if present, exactly
 *   `JWT`, and no `crit`) is considered; `none` and every other algorithm
 *   fail with kind `algorithm`;
 * - the signature is checked (in constant time) before the payload is even
 *   decoded, so `expired`, `not-yet-valid` and payload errors are reported
 *   only for tokens signed with `secret`;
 * - `exp`, when present, must be a number and the token is expired once
 *   `nowSeconds >= exp`; `nbf`, when present, must be a number and the token
 *   is refused while `nowSeconds < nbf`. No clock leeway is applied, so
 *   issuers should not set `nbf` ahead of their own clock;
 * - every failure is a {@link TokenError} whose message contains neither
 *   the token nor the secret.
 *
 * An empty secret is a configuration fault, not a bad token: it throws a
 * `TypeError`.
 */
export function verifyToken(
  token: string,
  secret: string,
  nowSeconds: number = Date.now() / 1000,
): Record<string, unknown> {
  checkSecret(secret);
  if (typeof token !== 'string') throw malformed('token is not a string');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw malformed(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('token does not have three parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  // The signature may be empty here so that an unsigned `alg: none` token is
  // reported as the algorithm problem it is.
  if (!isBase64url(headerPart, false) || !isBase64url(payloadPart, false) || !isBase64url(signaturePart, true)) {
    throw malformed('token parts are not base64url');
  }

  const header = decodeObject(headerPart, 'header');
  if (header.alg !== 'HS256') throw new TokenError('algorithm', 'token algorithm must be HS256');
  if (Object.hasOwn(header, 'typ') && header.typ !== 'JWT') {
    throw new TokenError('algorithm', 'token type must be JWT');
  }
  // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; none are.
  if (Object.hasOwn(header, 'crit')) {
    throw new TokenError('algorithm', 'token has unsupported critical header parameters');
  }

  // Compared as base64url text rather than decoded bytes so that the only
  // accepted signature is the canonical encoding. Lengths are not secret.
  const expected = Buffer.from(hmac(`${headerPart}.${payloadPart}`, secret), 'latin1');
  const given = Buffer.from(signaturePart, 'latin1');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new TokenError('signature', 'token signature is invalid');
  }

  const claims = decodeObject(payloadPart, 'payload');
  const exp = timeClaim(claims, 'exp');
  if (exp !== undefined && nowSeconds >= exp) throw new TokenError('expired', 'token expired');
  const nbf = timeClaim(claims, 'nbf');
  if (nbf !== undefined && nowSeconds < nbf) {
    throw new TokenError('not-yet-valid', 'token is not valid yet');
  }
  return claims;
}

function checkSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError('token secret must be a non-empty string');
  }
}

function hmac(signingInput: string, secret: string): string {
  return createHmac('sha256', secret).update(signingInput).digest('base64url');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Unpadded base64url; a length of 1 mod 4 cannot come from any byte string. */
function isBase64url(part: string, allowEmpty: boolean): boolean {
  if (part.length === 0) return allowEmpty;
  return part.length % 4 !== 1 && BASE64URL.test(part);
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

function timeClaim(claims: Record<string, unknown>, name: 'exp' | 'nbf'): number | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw malformed(`token claim "${name}" is not a number`);
  }
  return value;
}

function malformed(message: string): TokenError {
  return new TokenError('malformed', message);
}
