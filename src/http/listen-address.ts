/**
 * What the start-up lines say about where the server listens: a URL a person
 * can open, and who can reach it.
 */
import type { AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';

const WILDCARDS = new Set(['0.0.0.0', '::', '::0']);

/** Whether the address is every interface (`0.0.0.0`, `::`). */
function isWildcard(address: string): boolean {
  return WILDCARDS.has(address);
}

/** Whether only this machine can connect to the address (127.0.0.0/8, `::1`, their IPv4-mapped form). */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * A URL a person can open in a browser on this machine: `http://localhost:PORT`
 * when the server listens on every interface (a browser cannot open
 * `0.0.0.0`), otherwise the address itself (IPv6 in brackets).
 */
export function browsableUrl(address: AddressInfo): string {
  if (isWildcard(address.address)) return `http://localhost:${address.port}`;
  const host = isIPv6(address.address) ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** The start-up notice about guest sign-in: who can join without an account, and at what level to log it. */
export function guestSignInNotice(address: AddressInfo): { level: 'info' | 'warn'; message: string } {
  const off = 'start with --no-guest-sign-in to turn it off';
  if (isLoopback(address.address)) {
    return { level: 'info', message: `guest sign-in is on: anyone on this machine can join the chat without an account; ${off}` };
  }
  const who = isWildcard(address.address)
    ? `anyone who can reach this machine on port ${address.port} (every network interface)`
    : `anyone who can reach ${browsableUrl(address)}`;
  return { level: 'warn', message: `guest sign-in is on: ${who} can join the chat without an account; ${off}` };
}
