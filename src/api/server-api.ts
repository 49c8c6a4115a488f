import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatModule } from '../chat/chat-module.js';
import type { Cluster } from '../cluster/cluster.js';
import type { ConnectionDenials } from '../cluster/connection-denials.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import { encodeWithRaw, RawJson } from '../protocol/encode.js';
import { Errors, ProtocolError } from '../protocol/errors.js';
import { toProtocolError, type ApiMethod, type ApiResult } from './api-method.js';
import { apiMethods } from './api-methods.js';
import { Fields, MalformedRequest } from './api-request.js';

export interface ServerApiOptions {
  config: Config;
  node: Node;
  http: FastifyInstance;
  chat: ChatModule;
  logger: Logger;
  cluster: Cluster;
  denials: ConnectionDenials;
}

/** Path prefix of the API: `POST /api/<method>`. */
export const API_PREFIX = '/api';
/** Room for the request envelope (channel names, tags, options) on top of the payload's `maxMessageSize`. */
const ENVELOPE_BYTES = 64 * 1024;
/** Header that asks for errors as HTTP statuses instead of `200 {"error": ...}`, as in Centrifugo. */
const ERROR_MODE_HEADER = 'x-centrifugo-error-mode';

/** HTTP status of a method error in transport error mode (Centrifugo's `MapErrorToHTTPCode`). */
function httpStatusOf(code: number): number {
  switch (code) {
    case 102:
    case 104:
      return 404;
    case 107:
    case 108:
      return 400;
    case 112:
      return 416;
    default:
      return 500;
  }
}

/** A command of a batch, checked and ready to run (or already failed). */
type Prepared = { method: string; run(): Promise<ApiResult> } | { method: string; error: ProtocolError };

/**
 * The server HTTP API at `POST /api/<method>`, with the request and response
 * shapes of Centrifugo's server API (`internal/apiproto/api.proto`, HTTP
 * handler in `internal/api`), authenticated by the configured API key.
 *
 * - **Auth:** `X-API-Key: <key>`, or `Authorization: apikey <key>`, compared
 *   in constant time; anything else is `401` with an empty body, answered
 *   before the body is read.
 * - **Methods:** `publish`, `broadcast`, `subscribe`, `unsubscribe`,
 *   `disconnect`, `presence`, `presence_stats`, `history`, `history_remove`,
 *   `channels`, `info`, `batch`. Another name is `404 {"error": {"code": 104}}`.
 * - **Body:** a JSON object, whatever the Content-Type (curl's `--data`
 *   sends a form type); an empty body reads as `{}`. Malformed JSON, a body
 *   that is not an object, or a field of the wrong JSON type is
 *   `400 {"error": {"code": 107, "message": ...}}` and changes nothing; at
 *   most `maxMessageSize` + 64 KiB (else 413).
 * - **Results:** `200 {"result": {...}}`; method errors (unknown channel 102,
 *   bad request 107, not available 108, unrecoverable position 112,
 *   internal 100) are `200 {"error": {"code", "message"}}`, or with
 *   `X-Centrifugo-Error-Mode: transport`, the bare error with a matching
 *   HTTP status (404, 400, 416, 500).
 *
 * Each call is logged at debug level with its method, channel and user;
 * never with its headers.
 */
export async function registerServerApi(options: ServerApiOptions): Promise<void> {
  const { config, node, http } = options;
  const logger = options.logger.child({ component: 'api' });
  const expectedKey = digest(config.apiKey);
  const bodyLimit = config.maxMessageSize + ENVELOPE_BYTES;
  const methods = apiMethods({ config, node, chat: options.chat, logger, cluster: options.cluster, denials: options.denials });

  /** Checks and readies one command; a wrong type throws MalformedRequest, which fails the whole request. */
  const prepare = (name: string, body: Fields | undefined): Prepared => {
    const method = methods.get(name) as ApiMethod | undefined;
    if (!method) return { method: name, error: Errors.methodNotFound('not found') };
    if (!body) return { method: name, error: Errors.badRequest('command is empty') };
    try {
      const params = method.parse(body);
      const target = targetOf(body);
      return {
        method: name,
        run: async () => {
          logger.debug({ method: name, ...target }, 'server api call');
          return method.run(params);
        },
      };
    } catch (error) {
      if (error instanceof ProtocolError) return { method: name, error };
      throw error;
    }
  };

  const answer = async (prepared: Prepared): Promise<{ result: ApiResult } | { error: ProtocolError }> => {
    if ('error' in prepared) return { error: prepared.error };
    try {
      return { result: await prepared.run() };
    } catch (error) {
      return { error: toProtocolError(error, logger, { method: prepared.method }) };
    }
  };

  /**
   * `batch`: `{"commands": [{"<method>": {...}}, ...], "parallel": false}` →
   * `{"replies": [{"<method>": {...}} | {"error": {...}}, ...]}`, in order;
   * commands run one after another unless `parallel`.
   */
  const batch = async (fields: Fields): Promise<string> => {
    const parallel = fields.boolean('parallel');
    const commands = fields.objects('commands').map((command) => {
      const present = command?.present() ?? [];
      const name = present.find((key) => methods.has(key)) ?? present[0];
      if (!command || name === undefined) return { method: '', error: Errors.badRequest('command is empty') };
      return prepare(name, command.object(name) ?? Fields.of({}));
    });
    const replies = parallel
      ? await Promise.all(commands.map(answer))
      : await commands.reduce<Promise<Awaited<ReturnType<typeof answer>>[]>>(
          async (done, command) => [...(await done), await answer(command)],
          Promise.resolve([]),
        );
    const encoded = replies.map((reply, i) => {
      if ('error' in reply) return encodeWithRaw({ error: reply.error.toJSON() });
      return encodeWithRaw({ [commands[i]?.method ?? '']: new RawJson(encodeWithRaw(reply.result)) });
    });
    return `{"replies":[${encoded.join(',')}]}`;
  };

  const handle = async (request: FastifyRequest<{ Params: { method: string } }>, reply: FastifyReply): Promise<unknown> => {
    reply.type('application/json');
    const name = request.params.method;
    if (name !== 'batch' && !methods.has(name)) return reply.code(404).send(errorBody(Errors.methodNotFound('not found')));
    let fields: Fields;
    try {
      fields = Fields.of(parseBody(request.body));
      if (name === 'batch') return reply.send(await batch(fields));
      const outcome = await answer(prepare(name, fields));
      if ('result' in outcome) return reply.send(encodeWithRaw({ result: new RawJson(encodeWithRaw(outcome.result)) }));
      logger.debug({ method: name, code: outcome.error.code, reason: outcome.error.message }, 'server api call refused');
      if (request.headers[ERROR_MODE_HEADER] === 'transport') {
        return reply.code(httpStatusOf(outcome.error.code)).send(JSON.stringify(outcome.error.toJSON()));
      }
      return reply.send(errorBody(outcome.error));
    } catch (error) {
      if (!(error instanceof MalformedRequest)) throw error;
      logger.debug({ method: name, reason: error.message }, 'malformed server api request');
      return reply.code(400).send(errorBody(Errors.badRequest(`bad request: ${error.message}`)));
    }
  };

  await http.register(
    async (api) => {
      // The key is checked before the body is even read: an unauthenticated request changes nothing.
      api.addHook('onRequest', async (request, reply) => {
        if (!authorized(request, expectedKey)) {
          logger.info({ path: request.url.split('?', 1)[0] }, 'server api request without a valid key');
          return reply.code(401).send();
        }
        return undefined;
      });
      // Any Content-Type: Centrifugo reads every body as JSON, and `curl --data` sends a form type.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));
      api.setErrorHandler(async (error: Error & { statusCode?: number }, _request, reply) => {
        const status = error.statusCode ?? 500;
        if (status >= 500) {
          logger.error({ err: error }, 'server api request failed');
          return reply.code(500).type('application/json').send(errorBody(Errors.internal()));
        }
        return reply.code(status).type('application/json').send(errorBody(Errors.badRequest(error.message)));
      });
      api.post<{ Params: { method: string } }>('/:method', { bodyLimit }, handle);
    },
    { prefix: API_PREFIX },
  );
}

function errorBody(error: ProtocolError): string {
  return JSON.stringify({ error: error.toJSON() });
}

function parseBody(body: unknown): unknown {
  if (body === undefined || body === '') return {};
  if (typeof body !== 'string') return body;
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new MalformedRequest('malformed JSON');
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether the request carries the API key, as `X-API-Key: <key>` or else `Authorization: apikey <key>` (Centrifugo's rules). */
function authorized(request: FastifyRequest, expected: Buffer): boolean {
  const header = request.headers['x-api-key'];
  let key: string | undefined;
  if (typeof header === 'string' && header !== '') {
    key = header;
  } else {
    const parts = (request.headers.authorization ?? '').trim().split(/\s+/);
    if (parts.length === 2 && parts[0]?.toLowerCase() === 'apikey') key = parts[1];
  }
  // Digests have one length, so the comparison takes the same time whatever was sent.
  return key !== undefined && timingSafeEqual(digest(key), expected);
}

/** What a call acts on, for the debug log: never anything but names. */
function targetOf(fields: Fields): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (const key of ['channel', 'user', 'client'] as const) {
    try {
      const value = fields.string(key);
      if (value !== '') target[key] = value;
    } catch {
      // Not a string here: the method does not use it.
    }
  }
  try {
    const channels = fields.strings('channels');
    if (channels.length > 0) target.channels = channels.length > 10 ? channels.length : channels;
  } catch {
    // Not a list here: the method does not use it.
  }
  return target;
}
