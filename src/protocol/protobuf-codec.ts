/**
 * The Protobuf encoding of the protocol (WebSocket subprotocol
 * `centrifuge-protobuf`): varint length-delimited `Command` messages from the
 * client, `Reply` messages to it, in binary frames. An empty `Reply` is the
 * ping, an empty `Command` the pong.
 *
 * JSON values travel as their UTF-8 JSON text in `bytes` fields: a
 * publication's stored JSON text, `conn_info`/`chan_info`, rpc results. JSON
 * and Protobuf clients of one channel therefore see the same payloads.
 */
import type { Codec, EncodedMessage } from './codec.js';
import type { ProtocolError } from './errors.js';
import type { ConnectResult, Push, Reply, SentPublication, SubscribeResult } from './messages.js';
import { decodeCommands } from './protobuf-commands.js';
import { pb, Writer, type centrifugal } from './protobuf-schema.js';
import type { ClientInfo } from './types.js';

type IReply = centrifugal.centrifuge.protocol.IReply;
type IPublication = centrifugal.centrifuge.protocol.IPublication;
type IClientInfo = centrifugal.centrifuge.protocol.IClientInfo;
type ISubscribeResult = centrifugal.centrifuge.protocol.ISubscribeResult;
type IConnectResult = centrifugal.centrifuge.protocol.IConnectResult;

/** An empty message, length-prefixed: a zero length. */
const EMPTY_MESSAGE = Buffer.from([0]);

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? null));
}

function clientInfo(info: ClientInfo): IClientInfo {
  const out: IClientInfo = { user: info.user, client: info.client };
  if (info.conn_info !== undefined) out.conn_info = jsonBytes(info.conn_info);
  if (info.chan_info !== undefined) out.chan_info = jsonBytes(info.chan_info);
  return out;
}

/** In a delta subscription, a `full` payload is the same bytes as outside one: only a patch differs. */
function publication(pub: SentPublication): IPublication {
  const patch = pub.deltaForm?.kind === 'patch' ? pub.deltaForm.patch : undefined;
  const out: IPublication = patch ? { data: patch, delta: true } : { data: Buffer.from(pub.data) };
  if (pub.info) out.info = clientInfo(pub.info);
  if (pub.offset) out.offset = pub.offset;
  if (pub.tags) out.tags = pub.tags;
  return out;
}

function subscribeResult(result: SubscribeResult): ISubscribeResult {
  const { publications, data, ...rest } = result;
  const out: ISubscribeResult = publications ? { ...rest, publications: publications.map(publication) } : rest;
  if (data !== undefined) out.data = Buffer.from(data);
  return out;
}

function connectResult(result: ConnectResult): IConnectResult {
  // `ping` is whole seconds here (uint32): a sub-second interval rounds up, never to 0, which would turn the client's ping check off.
  const { subs, ping, data, ...rest } = result;
  const base: IConnectResult = { ...rest, ping: Math.ceil(ping) };
  if (data !== undefined) base.data = Buffer.from(data);
  if (!subs) return base;
  const out: Record<string, ISubscribeResult> = {};
  for (const [channel, sub] of Object.entries(subs)) out[channel] = subscribeResult(sub);
  return { ...base, subs: out };
}

function replyMessage(reply: Reply): IReply {
  switch (reply.method) {
    case 'connect':
      return { id: reply.id, connect: connectResult(reply.result) };
    case 'subscribe':
      return { id: reply.id, subscribe: subscribeResult(reply.result) };
    case 'history':
      return { id: reply.id, history: { ...reply.result, publications: reply.result.publications.map(publication) } };
    case 'presence': {
      const presence: Record<string, IClientInfo> = {};
      for (const [client, info] of Object.entries(reply.result.presence)) presence[client] = clientInfo(info);
      return { id: reply.id, presence: { presence } };
    }
    case 'rpc':
      return { id: reply.id, rpc: reply.result.data === undefined ? {} : { data: jsonBytes(reply.result.data) } };
    default:
      return { id: reply.id, [reply.method]: reply.result };
  }
}

function pushMessage(push: Push): IReply {
  switch (push.type) {
    case 'pub':
      return { push: { channel: push.channel, pub: publication(push.pub) } };
    case 'join':
      return { push: { channel: push.channel, join: { info: clientInfo(push.info) } } };
    case 'leave':
      return { push: { channel: push.channel, leave: { info: clientInfo(push.info) } } };
    case 'unsubscribe':
      return { push: { channel: push.channel, unsubscribe: { code: push.code, reason: push.reason } } };
    case 'subscribe': {
      const { data, ...rest } = push.subscribe;
      return { push: { channel: push.channel, subscribe: data === undefined ? rest : { ...rest, data: Buffer.from(data) } } };
    }
    case 'message':
      return { push: { message: { data: jsonBytes(push.data) } } };
  }
}

/** One `Reply`, varint length-delimited. */
function delimited(message: IReply): Buffer {
  const writer = Writer.create();
  writer.fork();
  pb.Reply.encode(message, writer).ldelim();
  return writer.finish() as Buffer;
}

export const protobufCodec: Codec = {
  name: 'protobuf',
  binary: true,
  separator: Buffer.alloc(0),
  ping: EMPTY_MESSAGE,

  isPong(chunk: Buffer): boolean {
    return chunk.length === 1 && chunk[0] === 0;
  },

  carriesPatch(): boolean {
    return true;
  },

  deltaWholeIsPlain: true,

  decode(chunk: Buffer) {
    return decodeCommands(chunk);
  },

  reply(reply: Reply): EncodedMessage {
    return delimited(replyMessage(reply));
  },

  error(id: number, error: ProtocolError): EncodedMessage {
    return delimited({ id, error: error.toJSON() });
  },

  push(push: Push): Buffer {
    return delimited(pushMessage(push));
  },

  disconnect(code: number, reason: string): Buffer {
    return delimited({ push: { disconnect: { code, reason } } });
  },
};
