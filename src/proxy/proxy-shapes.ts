/**
 * The request bodies and result fields of Centrifugo's HTTP proxy, as this
 * server sends and reads them. Requests carry the connection's `client`,
 * `transport`, `protocol` and `encoding` (`json`: `data` fields hold JSON
 * values; a backend may still answer `b64data`/`b64info`, which is decoded
 * and must hold JSON). Readers check each field's type and throw a
 * {@link ProxyFailure} (`malformed`) naming the first bad one.
 */
import { MAX_CHANNEL_LENGTH, MAX_USER_LENGTH } from '../auth/claims.js';
import { jsonOrBase64 } from '../protocol/json-or-base64.js';
import { isRecord, ProxyFailure } from './proxy-call.js';

/** Who is calling: the fields every request starts with, and what the connect proxy gave the connection. */
export interface ProxyCaller {
  readonly client: string;
  /** Transport name as Centrifugo names it (`websocket`). */
  readonly transport: string;
  /** Protocol encoding of the connection (`json`). */
  readonly protocol: string;
  /** The user; absent before connect. */
  readonly user?: string;
  /** The connect proxy's `meta` for this connection, as JSON text (sent back with every later call). */
  readonly meta?: string | undefined;
}

/** The body of a call: the caller's fields, then the call's own (undefined fields are left out). */
export function requestBody(caller: ProxyCaller, fields: Record<string, unknown>): string {
  const base: Record<string, unknown> = { client: caller.client, transport: caller.transport, protocol: caller.protocol, encoding: 'json' };
  if (caller.user !== undefined) base.user = caller.user;
  const body = JSON.stringify({ ...base, ...fields });
  // `meta` is kept as the backend's JSON text: spliced in rather than parsed again for each call.
  return caller.meta === undefined ? body : `${body.slice(0, -1)},"meta":${caller.meta}}`;
}

/** A JSON value a result may carry as `name` (JSON) or `b64name` (base64 of JSON); absent when neither is set. */
export function jsonField(result: Record<string, unknown>, name: string): { value: unknown } | undefined {
  return jsonOrBase64(result, name, (message) => new ProxyFailure('malformed', message));
}

/** `expire_at` in Unix seconds; undefined for 0 or absent (never expires). */
export function expireAtOf(result: Record<string, unknown>): number | undefined {
  const value = result.expire_at;
  if (value === undefined || value === null || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ProxyFailure('malformed', 'expire_at must be Unix seconds');
  return value;
}

/** What the connect proxy grants a connection. */
export interface ConnectGrant {
  user: string;
  expiresAt: number | undefined;
  /** Becomes the connection's `conn_info`. */
  info: { value: unknown } | undefined;
  /** Returned to the client in the connect reply's `data`. */
  data: { value: unknown } | undefined;
  /** Server-side subscriptions: `channels`, then the keys of `subs` not already listed. */
  channels: string[];
  /** `subs` options per channel: `info` (becomes `chan_info`) and `data` (the subscribe result's `data`). */
  subs: Map<string, { info?: unknown; data?: unknown }>;
  /** `meta` as JSON text, kept server-side and sent with the connection's later calls. */
  meta: string | undefined;
}

/** Largest `meta` kept per connection, in bytes of JSON. */
export const MAX_META_BYTES = 65_536;

export function connectGrantOf(result: Record<string, unknown>): ConnectGrant {
  const user = result.user ?? '';
  if (typeof user !== 'string' || user.length > MAX_USER_LENGTH) throw new ProxyFailure('malformed', `user must be a string of at most ${MAX_USER_LENGTH} characters`);
  const channels = stringList(result.channels, 'channels');
  const subs = new Map<string, { info?: unknown; data?: unknown }>();
  if (result.subs !== undefined && result.subs !== null) {
    if (!isRecord(result.subs)) throw new ProxyFailure('malformed', 'subs must be an object of channel options');
    for (const [channel, options] of Object.entries(result.subs)) {
      if (channel === '' || channel.length > MAX_CHANNEL_LENGTH) throw new ProxyFailure('malformed', 'subs has a channel name that is empty or too long');
      if (!isRecord(options)) throw new ProxyFailure('malformed', `subs.${channel.slice(0, 40)} must be an object`);
      const info = jsonField(options, 'info');
      const data = jsonField(options, 'data');
      subs.set(channel, { ...(info && { info: info.value }), ...(data && { data: data.value }) });
      if (!channels.includes(channel)) channels.push(channel);
    }
  }
  let meta: string | undefined;
  if (result.meta !== undefined && result.meta !== null) {
    meta = JSON.stringify(result.meta);
    if (Buffer.byteLength(meta) > MAX_META_BYTES) throw new ProxyFailure('malformed', `meta is over ${MAX_META_BYTES} bytes`);
  }
  return { user, expiresAt: expireAtOf(result), info: jsonField(result, 'info'), data: jsonField(result, 'data'), channels, subs, meta };
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '' && item.length <= MAX_CHANNEL_LENGTH)) {
    throw new ProxyFailure('malformed', `${name} must be a list of channel names`);
  }
  return [...new Set(value as string[])];
}

/** What the refresh proxy decides: the connection expired, or lives on until `expiresAt` (undefined: for good). */
export type RefreshDecision = { expired: true } | { expired: false; expiresAt: number | undefined; info: { value: unknown } | undefined };

export function refreshDecisionOf(result: Record<string, unknown>): RefreshDecision {
  if (result.expired === true) return { expired: true };
  return { expired: false, expiresAt: expireAtOf(result), info: jsonField(result, 'info') };
}

/** What the subscribe proxy grants: `info` (becomes `chan_info`) and `data` for the subscribe result. */
export interface SubscribeGrant {
  info: { value: unknown } | undefined;
  data: { value: unknown } | undefined;
}

export function subscribeGrantOf(result: Record<string, unknown>): SubscribeGrant {
  return { info: jsonField(result, 'info'), data: jsonField(result, 'data') };
}

/** What the publish proxy decides: the data to publish (the client's unless rewritten), and whether to keep it out of history. */
export interface PublishDecision {
  data: unknown;
  skipHistory: boolean;
}

export function publishDecisionOf(result: Record<string, unknown>, sent: unknown): PublishDecision {
  const data = jsonField(result, 'data');
  return { data: data ? data.value : sent, skipHistory: result.skip_history === true };
}

/** The rpc proxy's answer data, if any. */
export function rpcDataOf(result: Record<string, unknown>): unknown {
  return jsonField(result, 'data')?.value;
}
