/**
 * An encoding of the client protocol: how a connection's bytes become
 * commands and how replies and pushes become bytes. The session, its
 * subscriptions and the node's fan-out speak only in {@link Reply} and
 * {@link Push} values and let the connection's codec encode them, so every
 * feature works the same in every encoding and over every transport.
 */
import type { Decoded } from './commands.js';
import type { ProtocolError } from './errors.js';
import type { Push, Reply } from './messages.js';

/**
 * One encoded message: JSON text (a string or its UTF-8 bytes) or a
 * length-prefixed Protobuf message. Buffers may be shared between
 * connections and are never modified.
 */
export type EncodedMessage = string | Buffer;

/**
 * Guarantees:
 * - Every encoded message is complete on its own and can be put in a frame
 *   or a stream chunk with others: joined with {@link separator} between
 *   them (JSON: a newline), or concatenated (Protobuf: each is already
 *   varint length-delimited, so the separator is empty).
 * - {@link decode} never throws: input it cannot read ends the list with an
 *   `invalid` entry (the connection closes with "bad request"), after the
 *   commands read before it; a command whose payload it refuses is `refused`.
 * - Encoders are pure: the same value gives the same bytes, so a push may be
 *   encoded once and shared by every connection using the codec.
 */
export interface Codec {
  /** `json` or `protobuf`, for logs and metrics. */
  readonly name: string;
  /** Whether a WebSocket carries it in binary frames (else text frames). */
  readonly binary: boolean;
  /** What goes between two messages of one frame or chunk. */
  readonly separator: Buffer;
  /** The server's ping, one Buffer for every connection so that its frame is built once. */
  readonly ping: Buffer;
  /** Whether a received chunk is exactly one pong: the fast path for what idle connections send. */
  isPong(chunk: Buffer): boolean;
  /**
   * Whether a fossil patch can travel in this encoding as it is: Protobuf
   * carries any bytes; JSON carries it in a string, so only valid UTF-8 (a
   * patch may cut a character in two, and is then sent as the full payload).
   */
  carriesPatch(patch: Buffer): boolean;
  /**
   * Whether a whole publication in a delta subscription has the same bytes
   * as outside one (Protobuf), so the two share one encoding; in JSON its
   * `data` becomes a JSON string.
   */
  readonly deltaWholeIsPlain: boolean;
  /**
   * The commands of one received chunk (a WebSocket message, a request
   * body), in order. A chunk holds whole messages: a transport reading a
   * stream hands over complete ones (split by newlines, or by Protobuf's
   * length prefixes); a message cut short counts as malformed.
   */
  decode(chunk: Buffer): Decoded[];
  reply(reply: Reply): EncodedMessage;
  error(id: number, error: ProtocolError): EncodedMessage;
  push(push: Push): Buffer;
  /**
   * The push that tells a client why the server ends its connection, for
   * carriers without a close frame of their own (HTTP-streaming, SSE): the
   * SDK acts on its code as on a WebSocket close code.
   */
  disconnect(code: number, reason: string): Buffer;
}
