/**
 * How messages are laid out in a streaming HTTP response body, and how that
 * body is framed for the wire. The layout of one message is all a format
 * says; the HTTP chunk around a write is added here for every format, and a
 * publication shared by many subscribers is framed once for all of them.
 */
import type { Codec } from '../protocol/codec.js';
import { jsonCodec } from '../protocol/json-codec.js';
import { protobufCodec } from '../protocol/protobuf-codec.js';
import { SharedFrames } from './frame.js';
import { toBuffer, type Framing, type Message } from './queued-transport.js';

/** A way of laying out messages in a response body. */
export interface StreamFormat {
  /** The transport name the SDK uses for it. */
  readonly transport: 'http_stream' | 'sse';
  /** The response's Content-Type. */
  readonly contentType: string;
  /** The encoding of the protocol its messages are in (the session's codec). */
  readonly codec: Codec;
  /** The bytes of one message in the body, its delimiter included, as parts to concatenate. */
  parts(message: Message): Buffer[];
}

const NEWLINE = Buffer.from('\n');
const SSE_DATA = Buffer.from('data: ');
const SSE_END = Buffer.from('\n\n');
const LINE_FEED = 0x0a;

/** HTTP-streaming with the JSON protocol: one JSON reply or push per line. */
export const jsonLines: StreamFormat = {
  transport: 'http_stream',
  contentType: 'application/x-ndjson; charset=utf-8',
  codec: jsonCodec,
  parts: (message) => [toBuffer(message), NEWLINE],
};

/**
 * HTTP-streaming with the Protobuf protocol: varint length-delimited
 * `Reply` messages one after another. Each encoded message carries its
 * length prefix already, so the body is their concatenation.
 */
export const protobufMessages: StreamFormat = {
  transport: 'http_stream',
  contentType: 'application/octet-stream',
  codec: protobufCodec,
  parts: (message) => [toBuffer(message)],
};

/**
 * Server-sent events (JSON only): one event per message. Messages are
 * single JSON lines; one holding a line feed anyway is split over several
 * `data:` lines, which EventSource joins back with line feeds.
 */
export const serverSentEvents: StreamFormat = {
  transport: 'sse',
  contentType: 'text/event-stream; charset=utf-8',
  codec: jsonCodec,
  parts: (message) => {
    const bytes = toBuffer(message);
    if (!bytes.includes(LINE_FEED)) return [SSE_DATA, bytes, SSE_END];
    const lines = bytes.toString('utf8').split('\n').map((line) => `data: ${line}\n`);
    return [Buffer.from(lines.join('')), NEWLINE];
  },
};

const CRLF = Buffer.from('\r\n');

/** The parts as one HTTP/1.1 chunk (RFC 9112 §7.1): hex size, CRLF, data, CRLF. */
function chunk(parts: readonly Buffer[]): Buffer {
  let size = 0;
  for (const part of parts) size += part.length;
  return Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), ...parts, CRLF]);
}

/** The bytes that end a chunked body. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n');

const framings = new Map<StreamFormat, { chunked: Framing; plain: Framing }>();

/**
 * The framing of a response body in `format`: each write is one HTTP chunk
 * when `chunked` (HTTP/1.1), the bare bytes otherwise (HTTP/1.0, where the
 * body ends with the connection). One per format and process, so that a
 * publication is framed once for all the connections it goes to.
 */
export function bodyFraming(format: StreamFormat, chunked: boolean): Framing {
  let made = framings.get(format);
  if (!made) {
    made = { chunked: makeFraming(format, true), plain: makeFraming(format, false) };
    framings.set(format, made);
  }
  return chunked ? made.chunked : made.plain;
}

function makeFraming(format: StreamFormat, chunked: boolean): Framing {
  const wrap = chunked ? chunk : (parts: readonly Buffer[]) => Buffer.concat(parts);
  const shared = new SharedFrames((payload) => wrap(format.parts(payload)));
  return {
    frame(first, more) {
      if (more === undefined) return typeof first === 'string' ? wrap(format.parts(first)) : shared.of(first);
      const parts = format.parts(first);
      for (const message of more) parts.push(...format.parts(message));
      return wrap(parts);
    },
  };
}
