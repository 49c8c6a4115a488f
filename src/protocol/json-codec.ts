/**
 * The JSON encoding of the protocol (a WebSocket without subprotocol):
 * newline-separated JSON objects in text frames. Payloads are stored as JSON
 * text and spliced in verbatim, never parsed and serialized again.
 */
import { isUtf8 } from 'node:buffer';
import type { Codec, EncodedMessage } from './codec.js';
import { decodeFrame, type Decoded } from './commands.js';
import { encodePublication, encodePublications, encodeWithRaw, RawJson } from './encode.js';
import type { ProtocolError } from './errors.js';
import type { ConnectResult, Push, Reply, SubscribeResult } from './messages.js';

/** The ping and the pong: an empty object. */
const EMPTY_OBJECT = Buffer.from('{}');

function subscribeResultJson(result: SubscribeResult): string {
  const { publications, data, ...rest } = result;
  if ((!publications || publications.length === 0) && data === undefined) return JSON.stringify(rest);
  return encodeWithRaw({
    ...rest,
    publications: publications && publications.length > 0 ? new RawJson(encodePublications(publications)) : undefined,
    data: data === undefined ? undefined : new RawJson(data),
  });
}

function connectResultJson(result: ConnectResult): string {
  const { subs, data, ...rest } = result;
  if (!subs && data === undefined) return JSON.stringify(rest);
  let encodedSubs: RawJson | undefined;
  if (subs) {
    const entries: Record<string, RawJson> = {};
    for (const [channel, sub] of Object.entries(subs)) entries[channel] = new RawJson(subscribeResultJson(sub));
    encodedSubs = new RawJson(encodeWithRaw(entries));
  }
  return encodeWithRaw({ ...rest, data: data === undefined ? undefined : new RawJson(data), subs: encodedSubs });
}

function resultJson(reply: Reply): string {
  switch (reply.method) {
    case 'connect':
      return connectResultJson(reply.result);
    case 'subscribe':
      return subscribeResultJson(reply.result);
    case 'history': {
      const { publications, epoch, offset } = reply.result;
      return `{"publications":${encodePublications(publications)},"epoch":${JSON.stringify(epoch)},"offset":${offset}}`;
    }
    default:
      return JSON.stringify(reply.result);
  }
}

function pushBody(push: Push): string {
  switch (push.type) {
    case 'pub':
      return `"pub":${encodePublication(push.pub)}`;
    case 'join':
    case 'leave':
      return `${JSON.stringify(push.type)}:{"info":${JSON.stringify(push.info)}}`;
    case 'unsubscribe':
      return `"unsubscribe":${JSON.stringify({ code: push.code, reason: push.reason })}`;
    case 'subscribe': {
      const { data, ...rest } = push.subscribe;
      return `"subscribe":${data === undefined ? JSON.stringify(rest) : encodeWithRaw({ ...rest, data: new RawJson(data) })}`;
    }
    case 'message':
      return `"message":{"data":${JSON.stringify(push.data ?? null)}}`;
  }
}

export const jsonCodec: Codec = {
  name: 'json',
  binary: false,
  separator: Buffer.from('\n'),
  ping: EMPTY_OBJECT,

  isPong(chunk: Buffer): boolean {
    return chunk.equals(EMPTY_OBJECT);
  },

  carriesPatch(patch: Buffer): boolean {
    return isUtf8(patch);
  },

  deltaWholeIsPlain: false,

  decode(chunk: Buffer): Decoded[] {
    return decodeFrame(chunk.toString('utf8'));
  },

  reply(reply: Reply): EncodedMessage {
    return `{"id":${reply.id},${JSON.stringify(reply.method)}:${resultJson(reply)}}`;
  },

  error(id: number, error: ProtocolError): EncodedMessage {
    return `{"id":${id},"error":${JSON.stringify(error.toJSON())}}`;
  },

  push(push: Push): Buffer {
    const channel = push.type === 'message' ? '' : `"channel":${JSON.stringify(push.channel)},`;
    return Buffer.from(`{"push":{${channel}${pushBody(push)}}}`);
  },

  disconnect(code: number, reason: string): Buffer {
    return Buffer.from(`{"push":{"disconnect":{"code":${code},"reason":${JSON.stringify(reason)}}}}`);
  },
};
