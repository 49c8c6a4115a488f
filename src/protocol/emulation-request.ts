/**
 * The body of a request to the emulation endpoint, in either encoding: the
 * session it is for, the node holding that session, and the commands.
 * JSON: `{"session", "node", "data"}` with the command lines as a string.
 * Protobuf: an `EmulationRequest` whose `data` holds varint
 * length-delimited `Command` messages. The commands are kept as bytes
 * either way, for the session's codec to decode.
 */
import type { Codec } from './codec.js';
import { jsonCodec } from './json-codec.js';
import { protobufCodec } from './protobuf-codec.js';
import { strictBytes } from './protobuf-commands.js';
import { pb } from './protobuf-schema.js';

export interface EmulationRequest {
  session: string;
  node: string;
  /** The commands, in `codec`'s encoding. */
  data: Buffer;
  /** The encoding the request (and so its commands) came in. */
  codec: Codec;
}

/** The request in `body`, or a sentence naming what is wrong with it. */
export function readEmulationRequest(body: Buffer, protobuf: boolean): EmulationRequest | { problem: string } {
  return protobuf ? fromProtobuf(body) : fromJson(body);
}

function fromProtobuf(body: Buffer): EmulationRequest | { problem: string } {
  let decoded: { session: string; node: string; data: Uint8Array };
  try {
    decoded = pb.EmulationRequest.decode(strictBytes(body));
  } catch {
    return { problem: 'the emulation request must be a Protobuf EmulationRequest {node, session, data}' };
  }
  const { session, node, data } = decoded;
  if (session === '') return { problem: 'session must be a non-empty string' };
  if (data.length === 0) return { problem: 'data must hold the commands' };
  return { session, node, data: Buffer.from(data.buffer, data.byteOffset, data.length), codec: protobufCodec };
}

function fromJson(body: Buffer): EmulationRequest | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'the emulation request must be a JSON object {session, node, data}' };
  }
  const { session, node, data } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof session !== 'string' || session === '') return { problem: 'session must be a non-empty string' };
  if (typeof node !== 'string') return { problem: 'node must be a string' };
  if (typeof data !== 'string' || data === '') return { problem: 'data must be the commands as a non-empty string' };
  return { session, node, data: Buffer.from(data), codec: jsonCodec };
}
