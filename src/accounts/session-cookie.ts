/**
 * The sign-in cookie: it carries the refresh token of an account or guest
 * session, so page scripts never see it (HttpOnly), other sites' requests
 * never carry it (SameSite=Strict), and it only goes to the `/app` routes.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The cookie's name. */
export const SESSION_COOKIE = 'parley_session';
/** The only path the browser sends it to. */
const COOKIE_PATH = '/app';
/** A refresh token is 32 random bytes in base64url; anything longer in a cookie is not one of ours. */
const MAX_TOKEN_LENGTH = 128;

/** A new refresh token: 32 random bytes, base64url. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 hex of a refresh token: the only form in which it is stored. */
export function refreshTokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

/**
 * Sets the cookie for `ttlSeconds`; `Secure` when the request came over
 * HTTPS (directly, or through a trusted proxy that says so), since a
 * browser drops a Secure cookie set over plain HTTP.
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, refreshToken: string, ttlSeconds: number): void {
  reply.header('set-cookie', cookie(request, refreshToken, Math.floor(ttlSeconds)));
}

/** Tells the browser to forget the cookie. */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', cookie(request, '', 0));
}

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
}

/** The refresh token in the request's cookie, if it has one that could be ours. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (value !== '' && value.length <= MAX_TOKEN_LENGTH && /^[A-Za-z0-9_-]+$/.test(value)) return value;
  }
  return undefined;
}
