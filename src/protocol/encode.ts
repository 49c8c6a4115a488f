/**
 * Encoding of server frames. Publications keep their payload as JSON text, so
 * a push is assembled by concatenation and serialized once per channel event,
 * whatever the number of subscribers.
 */
import type { ProtocolError } from './errors.js';
import type { ClientInfo, Publication } from './types.js';

/** The ping the server sends: an empty object, as a Buffer so its WebSocket frame is built once for every connection. */
export const PING_FRAME = Buffer.from('{}');
/** The pong a client answers with, as received: the same empty object. */
export const PONG_TEXT = '{}';

export function encodeReply(id: number, method: string, result: unknown): string {
  return `{"id":${id},${JSON.stringify(method)}:${JSON.stringify(result ?? {})}}`;
}

export function encodeError(id: number, error: ProtocolError): string {
  return `{"id":${id},"error":${JSON.stringify(error.toJSON())}}`;
}

/** The `pub` object of a push or of a subscribe/history result, as JSON text. */
export function encodePublication(publication: Publication): string {
  let out = `{"data":${publication.data}`;
  if (publication.info) out += `,"info":${JSON.stringify(publication.info)}`;
  if (publication.offset) out += `,"offset":${publication.offset}`;
  if (publication.tags) out += `,"tags":${JSON.stringify(publication.tags)}`;
  return out + '}';
}

/** A list of publications as a JSON array text. */
export function encodePublications(publications: readonly Publication[]): string {
  return `[${publications.map(encodePublication).join(',')}]`;
}

export function encodePublicationPush(channel: string, publication: Publication): Buffer {
  return Buffer.from(`{"push":{"channel":${JSON.stringify(channel)},"pub":${encodePublication(publication)}}}`);
}

export function encodeJoinPush(channel: string, info: ClientInfo): Buffer {
  return Buffer.from(`{"push":{"channel":${JSON.stringify(channel)},"join":{"info":${JSON.stringify(info)}}}}`);
}

export function encodeLeavePush(channel: string, info: ClientInfo): Buffer {
  return Buffer.from(`{"push":{"channel":${JSON.stringify(channel)},"leave":{"info":${JSON.stringify(info)}}}}`);
}

export function encodeUnsubscribePush(channel: string, code: number, reason: string): string {
  return `{"push":{"channel":${JSON.stringify(channel)},"unsubscribe":{"code":${code},"reason":${JSON.stringify(reason)}}}}`;
}

export function encodeMessagePush(data: unknown): string {
  return `{"push":{"message":{"data":${JSON.stringify(data ?? null)}}}}`;
}

/**
 * A JSON value that may contain pre-encoded fragments. `JSON.stringify` cannot
 * splice raw JSON, so results that carry publications are built with this.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Like JSON.stringify for plain objects, but copies {@link RawJson} values verbatim. */
export function encodeWithRaw(value: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const encoded = item instanceof RawJson ? item.text : JSON.stringify(item);
    parts.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${parts.join(',')}}`;
}

export function encodeReplyRaw(id: number, method: string, result: Record<string, unknown>): string {
  return `{"id":${id},${JSON.stringify(method)}:${encodeWithRaw(result)}}`;
}

/**
 * The push that tells a client why the server ends its connection, for
 * carriers without a close frame of their own (HTTP streaming, SSE): the
 * SDK acts on its code as on a WebSocket close code.
 */
export function encodeDisconnectPush(code: number, reason: string): string {
  return `{"push":{"disconnect":{"code":${code},"reason":${JSON.stringify(reason)}}}}`;
}
