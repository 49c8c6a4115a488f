import type { FastifyInstance } from 'fastify';
import type { ChatModule } from '../chat/chat-module.js';
import type { Logger } from '../log/logger.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeSeedMessage } from './seed-message.js';

/** Messages `GET /getAllMessages` returns without `limit`. */
export const ALL_MESSAGES_DEFAULT_LIMIT = 100;
/** Largest `limit` of `GET /getAllMessages`. */
export const ALL_MESSAGES_MAX_LIMIT = 1000;

export interface AllMessagesRouteOptions {
  chat: ChatModule;
  logger: Logger;
  /** The conversation served, e.g. `room:general`. */
  channel: string;
}

/**
 * Registers `GET /getAllMessages` (the seed chat room's history dump): a JSON
 * array of the conversation's newest messages in the seed's shape
 * (`{email: "", username, message}`), oldest first, deleted ones left out.
 * `?limit=N` (1 to {@link ALL_MESSAGES_MAX_LIMIT}, default
 * {@link ALL_MESSAGES_DEFAULT_LIMIT}) bounds the answer, so a long history
 * cannot make one request read and hold all of it; anything else is 400
 * with `{error}`.
 */
export function registerAllMessagesRoute(http: FastifyInstance, options: AllMessagesRouteOptions): void {
  const { chat, logger, channel } = options;
  http.get('/getAllMessages', async (request, reply) => {
    const limit = limitOf((request.query as Record<string, unknown> | undefined)?.limit);
    if (limit === undefined) {
      return reply.code(400).send({ error: `limit must be a whole number from 1 to ${ALL_MESSAGES_MAX_LIMIT}` });
    }
    let messages;
    try {
      messages = await chat.latest(channel, limit);
    } catch (error) {
      if (error instanceof ProtocolError && error.code === 108) {
        return reply.code(503).send({ error: 'The server is shutting down; try again in a moment' });
      }
      logger.error({ err: error }, 'reading messages for /getAllMessages failed');
      return reply.code(500).send({ error: 'Something went wrong on the server; try again' });
    }
    const body = `[${messages.filter((message) => !message.deleted).map(encodeSeedMessage).join(',')}]`;
    return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(body);
  });
}

/** The `limit` parameter, or undefined when it is not a whole number in range. */
function limitOf(value: unknown): number | undefined {
  if (value === undefined) return ALL_MESSAGES_DEFAULT_LIMIT;
  if (typeof value !== 'string' || !/^[0-9]{1,4}$/.test(value)) return undefined;
  const limit = Number(value);
  return limit >= 1 && limit <= ALL_MESSAGES_MAX_LIMIT ? limit : undefined;
}
