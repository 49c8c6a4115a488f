/**
 * A bare WebSocket client speaking the Protobuf encoding by hand with the
 * checked-in schema (`src/protocol/client.proto`): commands encoded as
 * varint length-delimited `Command` messages, replies decoded from the
 * binary frames, for tests of batching, pings and input no SDK sends.
 */
import WebSocket from 'ws';
import { pb, Reader, Writer, type centrifugal } from '../../src/protocol/protobuf-schema.js';
import { opened } from './raw-client.js';
import { waitFor } from './wait.js';

type ICommand = centrifugal.centrifuge.protocol.ICommand;
type IReply = centrifugal.centrifuge.protocol.IReply;

export const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';

export interface RawProtobufClient {
  ws: WebSocket;
  /** Every Reply received, in order (pings are empty Replies). */
  received: centrifugal.centrifuge.protocol.Reply[];
  /** Replies per WebSocket frame received, in order. */
  repliesPerFrame: number[];
  /** Whether any frame arrived as text. */
  sawText: boolean;
  closed: { code: number; reason: string } | undefined;
  /** Sends the commands in one frame. */
  send(...commands: ICommand[]): void;
  /** Sends bytes as one binary frame. */
  sendBytes(bytes: Uint8Array): void;
  reply(id: number, timeoutMs?: number): Promise<centrifugal.centrifuge.protocol.Reply>;
  waitClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Commands as one chunk of length-delimited messages. */
export function encodeCommands(...commands: ICommand[]): Uint8Array {
  const writer = Writer.create();
  for (const command of commands) {
    writer.fork();
    pb.Command.encode(command, writer).ldelim();
  }
  return writer.finish();
}

/** The Replies of one chunk of length-delimited messages. */
export function decodeReplies(bytes: Uint8Array): centrifugal.centrifuge.protocol.Reply[] {
  const reader = Reader.create(bytes);
  const out: centrifugal.centrifuge.protocol.Reply[] = [];
  while (reader.pos < reader.len) out.push(pb.Reply.decode(reader, reader.uint32()));
  return out;
}

/** UTF-8 JSON bytes of a value, as Protobuf `data` fields carry it. */
export function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

/** The JSON value held in a `data` field. */
export function fromJsonBytes(bytes: Uint8Array | null | undefined): unknown {
  return JSON.parse(Buffer.from(bytes ?? []).toString('utf8'));
}

/** Whether a Reply is empty: the server's ping. */
export function isPing(reply: IReply): boolean {
  return !reply.id && !reply.error && !reply.push && pb.Reply.encode(reply).finish().length === 0;
}

export async function openRawProtobuf(url: string): Promise<RawProtobufClient> {
  const ws = new WebSocket(url, [PROTOBUF_SUBPROTOCOL]);
  const client: RawProtobufClient = {
    ws,
    received: [],
    repliesPerFrame: [],
    sawText: false,
    closed: undefined,
    send: (...commands) => ws.send(encodeCommands(...commands)),
    sendBytes: (bytes) => ws.send(bytes, { binary: true }),
    reply: (id, timeoutMs) => waitFor(() => client.received.find((reply) => reply.id === id), { timeoutMs, message: `reply ${id}` }),
    waitClose: (timeoutMs) => waitFor(() => client.closed, { timeoutMs, message: 'close' }),
    close: () => ws.terminate(),
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) client.sawText = true;
    const replies = decodeReplies(data);
    client.repliesPerFrame.push(replies.length);
    client.received.push(...replies);
  });
  ws.on('close', (code: number, reason: Buffer) => {
    client.closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => undefined);
  await opened(ws);
  return client;
}

/** Opens a Protobuf client and completes the connect handshake (command id 1). */
export async function connectRawProtobuf(url: string, token: string): Promise<RawProtobufClient> {
  const client = await openRawProtobuf(url);
  client.send({ id: 1, connect: { token, name: 'raw-protobuf-test' } });
  const reply = await client.reply(1);
  if (!reply.connect) throw new Error(`connect failed: error ${reply.error?.code} ${reply.error?.message}`);
  return client;
}
