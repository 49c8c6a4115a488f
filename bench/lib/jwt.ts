/** HS256 connection tokens for the load generator's clients (the Centrifuge protocol's `connect`). */
import { createHmac } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** A token for user `user`, valid for an hour (as an application would mint it), with `info` (shown to others) when given. */
export function connectionToken(user: string, secret: string, info?: Record<string, unknown>): string {
  return signHs256({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600, ...(info ? { info } : {}) }, secret);
}
