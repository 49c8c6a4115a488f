/**
 * Turns the claims of a verified token into what a connection or a
 * subscription is allowed to be. Both Centrifugo-style claims (`sub`, `info`)
 * and Scaledrone-style claims (`client`, `data`, `permissions`) are read, so
 * tokens minted for either kind of backend work unchanged.
 */

import { jsonOrBase64 } from '../protocol/json-or-base64.js';
import { PermissionSet } from './permissions.js';
import type { RegexGuard } from './regex-guard.js';
import { TokenError } from './token-error.js';

/** Longest user id accepted. */
export const MAX_USER_LENGTH = 255;
/** Longest channel name a token may name. */
export const MAX_CHANNEL_LENGTH = 255;

/** Who a connection token says the client is and what it may do. */
export interface ConnectionCredentials {
  /** User id; "" for an anonymous connection. */
  user: string;
  /** When the connection must refresh its token, in Unix seconds; absent for never. */
  expiresAt?: number;
  /** Public information about the connection (becomes `conn_info`), any JSON. */
  info?: unknown;
  /** Channels the server subscribes the connection to (`channels`, then `subs`), without duplicates, in token order. */
  readonly channels: readonly string[];
  /** What the `subs` claim says about some of `channels`; absent without a `subs` claim. */
  subscriptionOptions?: ReadonlyMap<string, TokenSubscriptionOptions>;
  /** Per-channel permissions; absent when the token carries none. */
  permissions?: PermissionSet;
  /** The account session the token was issued for (`sid`), checked on connect and refresh. */
  session?: string;
}

/** One channel of a connection token's `subs` claim. */
export interface TokenSubscriptionOptions {
  /** The subscriber's info in this channel (`info`, or `b64info` holding JSON), shown as `chan_info`. */
  info?: unknown;
  /** JSON for the client in the subscription's result (`data`, or `b64data` holding JSON). */
  data?: unknown;
}

/** What a subscription token grants: one user on one channel. */
export interface SubscriptionCredentials {
  /** User id the token was issued to; "" for anonymous. */
  user: string;
  /** The channel the token is for. */
  channel: string;
  /** When the subscription must refresh its token, in Unix seconds; absent for never. */
  expiresAt?: number;
  /** Public information about the subscriber in this channel (becomes `chan_info`), any JSON. */
  info?: unknown;
}

export interface ClaimsOptions {
  /** Guard that runs permission patterns, e.g. one that logs timeouts. Defaults to a shared guard. */
  regexGuard?: RegexGuard;
}

/**
 * Reads a verified connection token's claims.
 *
 * - user: `sub` when present (even ""), otherwise `client`, otherwise "";
 *   a string of at most {@link MAX_USER_LENGTH} characters;
 * - info: `info` when present (even `null`), otherwise `b64info` (base64
 *   of JSON text), otherwise `data`;
 * - `channels`: optional array of non-empty strings of at most
 *   {@link MAX_CHANNEL_LENGTH} characters;
 * - `subs`: optional object of channel name → `{ info?, b64info?, data?,
 *   b64data? }` (Centrifugo's; `override` is ignored): more server-side
 *   subscriptions, with the subscriber's info in the channel and data for
 *   the client;
 * - `permissions`: optional, see {@link PermissionSet.fromClaim};
 * - `expiresAt`: `expire_at` when present (0: never), otherwise `exp`;
 * - `sid`: optional non-empty string, copied to `session`.
 *
 * Other claims are ignored. Throws a {@link TokenError} of kind `claims`
 * naming the offending claim when one has the wrong type. It does not check
 * expiry: that is `verifyToken`'s job.
 */
export function parseConnectionClaims(
  claims: Record<string, unknown>,
  options: ClaimsOptions = {},
): ConnectionCredentials {
  const subscriptionOptions = Object.hasOwn(claims, 'subs') ? subsOf(claims.subs) : undefined;
  const credentials: ConnectionCredentials = { user: userOf(claims), channels: channelsOf(claims, subscriptionOptions) };
  if (subscriptionOptions) credentials.subscriptionOptions = subscriptionOptions;
  const expiresAt = expiryOf(claims);
  if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
  const info = infoOf(claims);
  if (info.present) credentials.info = info.value;
  if (Object.hasOwn(claims, 'permissions')) {
    credentials.permissions = PermissionSet.fromClaim(claims.permissions, options.regexGuard);
  }
  if (Object.hasOwn(claims, 'sid')) credentials.session = sessionOf(claims.sid);
  return credentials;
}

/**
 * Reads a verified subscription token's claims: `channel` (required,
 * non-empty, at most {@link MAX_CHANNEL_LENGTH} characters), the user, info
 * and expiry as for {@link parseConnectionClaims}.
 *
 * The caller must still check that `channel` is the channel being
 * subscribed to and `user` is the connection's user; this function only
 * vouches for the claims' shape.
 */
export function parseSubscriptionClaims(claims: Record<string, unknown>): SubscriptionCredentials {
  if (!Object.hasOwn(claims, 'channel')) throw claimsError('claim "channel" is required');
  const channel = channelName(claims.channel, 'claim "channel" must be a non-empty string');
  const credentials: SubscriptionCredentials = { user: userOf(claims), channel };
  const expiresAt = expiryOf(claims);
  if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
  const info = infoOf(claims);
  if (info.present) credentials.info = info.value;
  return credentials;
}

function userOf(claims: Record<string, unknown>): string {
  const name = Object.hasOwn(claims, 'sub') ? 'sub' : Object.hasOwn(claims, 'client') ? 'client' : undefined;
  if (name === undefined) return '';
  const value = claims[name];
  if (typeof value !== 'string') throw claimsError(`claim "${name}" must be a string`);
  if (value.length > MAX_USER_LENGTH) {
    throw claimsError(`claim "${name}" is longer than ${MAX_USER_LENGTH} characters`);
  }
  return value;
}

/** Longest account session id accepted in a token. */
const MAX_SESSION_ID_LENGTH = 64;

function sessionOf(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_SESSION_ID_LENGTH) {
    throw claimsError(`claim "sid" must be a non-empty string of at most ${MAX_SESSION_ID_LENGTH} characters`);
  }
  return value;
}

function infoOf(claims: Record<string, unknown>): { present: boolean; value?: unknown } {
  const info = jsonField(claims, 'info');
  if (info.present) return info;
  if (Object.hasOwn(claims, 'data')) return { present: true, value: claims.data };
  return { present: false };
}


/**
 * When the connection or subscription expires: `expire_at` when present (0
 * for never), which lets a token be short-lived while what it opens is not;
 * otherwise `exp`.
 */
function expiryOf(claims: Record<string, unknown>): number | undefined {
  const name = Object.hasOwn(claims, 'expire_at') ? 'expire_at' : 'exp';
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw claimsError(`claim "${name}" must be a number`);
  return name === 'expire_at' && value === 0 ? undefined : value;
}

/** Shared by every connection whose token names no channels (most), instead of an empty array each. */
export const NO_CHANNELS: readonly string[] = Object.freeze([]);

function channelsOf(claims: Record<string, unknown>, subs: ReadonlyMap<string, unknown> | undefined): readonly string[] {
  if (!Object.hasOwn(claims, 'channels') && !subs) return NO_CHANNELS;
  const value = Object.hasOwn(claims, 'channels') ? claims.channels : [];
  if (!Array.isArray(value)) throw claimsError('claim "channels" must be an array of strings');
  const channels = new Set<string>();
  for (const item of value as unknown[]) channels.add(channelName(item, 'claim "channels" must hold non-empty strings'));
  for (const name of subs?.keys() ?? []) channels.add(name);
  return [...channels];
}

function subsOf(value: unknown): ReadonlyMap<string, TokenSubscriptionOptions> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw claimsError('claim "subs" must be an object of channels');
  const subs = new Map<string, TokenSubscriptionOptions>();
  for (const [name, entry] of Object.entries(value)) {
    channelName(name, 'claim "subs" must have non-empty channel names');
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw claimsError('claim "subs" must map channels to objects');
    const fields = entry as Record<string, unknown>;
    const options: TokenSubscriptionOptions = {};
    const info = jsonField(fields, 'info');
    if (info.present) options.info = info.value;
    const data = jsonField(fields, 'data');
    if (data.present) options.data = data.value;
    subs.set(name, options);
  }
  return subs;
}

/** A JSON value given as `name`, or as base64 of JSON text in `b64name` (see `jsonOrBase64`). */
function jsonField(fields: Record<string, unknown>, name: 'info' | 'data'): { present: boolean; value?: unknown } {
  const found = jsonOrBase64(fields, name, (message) => claimsError(`claim ${message}`));
  return found === undefined ? { present: false } : { present: true, value: found.value };
}

function channelName(value: unknown, requirement: string): string {
  if (typeof value !== 'string' || value.length === 0) throw claimsError(requirement);
  if (value.length > MAX_CHANNEL_LENGTH) {
    throw claimsError(`${requirement} of at most ${MAX_CHANNEL_LENGTH} characters`);
  }
  return value;
}

function claimsError(message: string): TokenError {
  return new TokenError('claims', message);
}
