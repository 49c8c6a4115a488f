/**
 * What the start-up lines say about where the server listens: a URL a person
 * can open, and who can reach it.
 */
import type { AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';
import type { AuthMode } from '../config/types.js';

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

/**
 * The start-up notice about who can join (see `Config.authMode`), and at
 * what level to log it: a warning when strangers on the network can join
 * without an admin letting them in. None for `token` (the operator's
 * backend decides).
 * @param firstAccount no account exists yet.
 */
export function joinNotice(authMode: AuthMode, address: AddressInfo, firstAccount: boolean): { level: 'info' | 'warn'; message: string } | undefined {
  const level = isLoopback(address.address) ? 'info' : 'warn';
  const who = isLoopback(address.address)
    ? 'anyone on this machine'
    : isWildcard(address.address)
      ? `anyone who can reach this machine on port ${address.port} (every network interface)`
      : `anyone who can reach ${browsableUrl(address)}`;
  switch (authMode) {
    case 'guest':
      return { level, message: `guest sign-in is on: ${who} can join the chat without an account; set authMode to open or invite to require accounts` };
    case 'open': {
      const first = firstAccount ? ' (the first account becomes the admin)' : '';
      return { level, message: `sign-up is open: ${who} can create an account${first}; set authMode to invite to require invitations` };
    }
    case 'invite': {
      const first = firstAccount ? '; no account exists yet: create the first admin with "parley admin create USER"' : '';
      return { level: 'info', message: `sign-up needs an invitation from an admin${first}` };
    }
    case 'token':
      return undefined;
  }
}
