import type { FastifyInstance } from 'fastify';
import type { ChatModule } from '../chat/chat-module.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';

export interface ServerApiOptions {
  config: Config;
  node: Node;
  http: FastifyInstance;
  chat: ChatModule;
  logger: Logger;
}

/**
 * The server HTTP API at `POST /api/<method>`, with the request and response
 * shapes of Centrifugo's server API, authenticated by the configured API key.
 */
export async function registerServerApi(_options: ServerApiOptions): Promise<void> {}
