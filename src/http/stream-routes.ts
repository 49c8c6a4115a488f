/**
 * The fallback transports for clients that cannot use WebSocket (a proxy
 * that strips `Upgrade`, a network that blocks it): HTTP-streaming and
 * server-sent events carry the server's replies and pushes in a response
 * body that stays open, and the client's later commands come as separate
 * requests to the emulation endpoint, relayed to the node holding the
 * session. The wire is the Centrifuge SDK's (its `http_stream` and `sse`
 * transports and `emulationEndpoint` option).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { relayEmulation } from '../cluster/emulation-relay.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Logger } from '../log/logger.js';
import type { AcceptedStream } from '../session/http-stream-binding.js';
import { isOriginAllowed } from '../transport/origin.js';
import { readEmulationRequest } from '../protocol/emulation-request.js';
import { jsonLines, protobufMessages, serverSentEvents, type StreamFormat } from '../transport/stream-formats.js';
import { answerErrorsAsJson, HttpError } from './app-errors.js';
import { answerPreflight, crossOriginHeaders } from './stream-cors.js';

export const HTTP_STREAM_PATH = '/connection/http_stream';
export const SSE_PATH = '/connection/sse';
export const EMULATION_PATH = '/emulation';

/** The query parameter an EventSource carries its connect command in (it cannot send a body). */
const SSE_CONNECT_PARAM = 'cf_connect';
/** Room for the emulation request's own fields around its commands. */
const EMULATION_ENVELOPE_BYTES = 4096;

export interface StreamRoutesOptions {
  /** Starts the session of a stream whose response head has been written. */
  accept: (stream: AcceptedStream) => void;
  cluster: Cluster;
  allowedOrigins: readonly string[];
  /** Largest command frame, in bytes (as over WebSocket). */
  maxMessageSize: number;
  /** False once the server is shutting down: new streams are refused. */
  accepting: () => boolean;
  logger: Logger;
}

/** Headers of every streaming response: nothing between the server and the client may buffer, cache or transform the body. */
const STREAM_HEADERS = [
  'Cache-Control: private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  'Pragma: no-cache',
  'Expires: 0',
  'X-Accel-Buffering: no',
  'X-Content-Type-Options: nosniff',
  'Connection: close',
];

/** Whether a request's Content-Type says it is in the Protobuf encoding (the SDK's Protobuf build sends this; anything else is JSON). */
function isProtobuf(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/octet-stream';
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** Registers the streaming endpoints and the emulation endpoint on `http`. */
export async function registerStreamRoutes(http: FastifyInstance, options: StreamRoutesOptions): Promise<void> {
  const originAllowed = (origin: string | undefined, host: string | undefined) => isOriginAllowed(origin, host, options.allowedOrigins);
  const emulationBodyLimit = options.maxMessageSize * 2 + EMULATION_ENVELOPE_BYTES;

  /** Refuses a request from an origin that is not allowed; otherwise sets the headers that let it read the answer. */
  const checkOrigin = (request: FastifyRequest, reply: FastifyReply): void => {
    const origin = request.headers.origin;
    // A browser loading the URL for another site's page (an <img> or <script> pointing at
    // /connection/sse) sends no Origin, but says where the request comes from: such a
    // request would open a session with the visitor's cookies, and is refused.
    const site = request.headers['sec-fetch-site'];
    if (origin === undefined && (site === 'cross-site' || site === 'same-site')) {
      options.logger.info({ path: request.routeOptions.url, site }, 'streaming request refused: made for another site without an Origin');
      throw new HttpError(403, 'origin not allowed');
    }
    if (!originAllowed(origin, request.headers.host)) {
      options.logger.info({ path: request.routeOptions.url, origin }, 'streaming request refused: origin not allowed');
      throw new HttpError(403, 'origin not allowed');
    }
    reply.headers(crossOriginHeaders(origin));
  };

  const openStream = (request: FastifyRequest, reply: FastifyReply, format: StreamFormat, commands: Buffer): void => {
    if (!options.accepting()) throw new HttpError(503, 'shutting down');
    if (isBlank(commands, format)) throw new HttpError(400, 'the request must carry the connect command');
    const socket = request.raw.socket;
    const chunked = request.raw.httpVersionMajor > 1 || request.raw.httpVersionMinor >= 1;
    const cors = Object.entries(crossOriginHeaders(request.headers.origin)).map(([name, value]) => `${name}: ${value}`);
    const head = [
      'HTTP/1.1 200 OK',
      `Content-Type: ${format.contentType}`,
      ...STREAM_HEADERS,
      ...(chunked ? ['Transfer-Encoding: chunked'] : []),
      ...cors,
    ];
    // The stream owns the socket from here: its bytes are written straight
    // to it, like a WebSocket's, and it ends with the stream.
    reply.hijack();
    // A client that went away while its request was read has nobody to stream to (and its socket's close has fired already).
    if (!socket.writable) return;
    socket.setNoDelay(true);
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    options.accept({ socket, format, chunked, commands, request: request.raw });
  };

  await http.register(async (app) => {
    answerErrorsAsJson(app, options.logger);
    // Bodies are protocol frames, read as bytes whatever their type; each route checks its own.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    answerPreflight(app, HTTP_STREAM_PATH, 'POST, OPTIONS', originAllowed);
    app.post(HTTP_STREAM_PATH, { bodyLimit: options.maxMessageSize }, async (request, reply) => {
      checkOrigin(request, reply);
      const format = isProtobuf(request.headers['content-type']) ? protobufMessages : jsonLines;
      openStream(request, reply, format, bodyBytes(request.body));
    });

    answerPreflight(app, SSE_PATH, 'GET, POST, OPTIONS', originAllowed);
    app.get(SSE_PATH, async (request, reply) => {
      checkOrigin(request, reply);
      const connect = (request.query as Record<string, unknown>)[SSE_CONNECT_PARAM];
      if (typeof connect !== 'string') throw new HttpError(400, `the ${SSE_CONNECT_PARAM} parameter must carry the connect command, once`);
      openStream(request, reply, serverSentEvents, Buffer.from(connect));
    });
    app.post(SSE_PATH, { bodyLimit: options.maxMessageSize }, async (request, reply) => {
      checkOrigin(request, reply);
      openStream(request, reply, serverSentEvents, bodyBytes(request.body));
    });

    answerPreflight(app, EMULATION_PATH, 'POST, OPTIONS', originAllowed);
    app.post(EMULATION_PATH, { bodyLimit: emulationBodyLimit }, async (request, reply) => {
      checkOrigin(request, reply);
      const read = readEmulationRequest(bodyBytes(request.body), isProtobuf(request.headers['content-type']));
      if ('problem' in read) throw new HttpError(400, read.problem);
      if (read.data.length > options.maxMessageSize) throw new HttpError(413, 'the commands are larger than the message size limit');
      switch (await relayEmulation(options.cluster, read)) {
        case 'taken':
          return reply.code(204).send();
        case 'unknown':
          throw new HttpError(404, 'unknown session: its stream has ended; connect again');
        case 'other-encoding':
          throw new HttpError(400, `the session speaks another encoding than this request's (${read.codec.name})`);
        case 'busy':
          // 503, not 429: the SDK drops a command refused with any other status without a word, and reconnects after a 5xx.
          throw new HttpError(503, 'the session did not take more commands in time; connect again');
        case 'unreachable':
          throw new HttpError(503, 'the node holding the session did not answer; connect again');
      }
    });
  });
}

/** Whether a body carries no command: empty, or (JSON) only whitespace. */
function isBlank(body: Buffer, format: StreamFormat): boolean {
  return format.codec.binary ? body.length === 0 : body.toString('utf8').trim() === '';
}

/** The request body as bytes (every body is read as a Buffer here; a bodiless request gives none). */
function bodyBytes(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}
