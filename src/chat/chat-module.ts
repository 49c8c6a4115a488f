import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';

export interface ChatModuleOptions {
  config: Config;
  node: Node;
  http: FastifyInstance;
  logger: Logger;
  /** Where the chat database lives. */
  dataDir: string;
}

/** A running chat module; `close` makes pending writes durable and releases storage. */
export interface ChatModule {
  close(): Promise<void>;
}

/**
 * Adds the chat features to a server: the `chat.*` RPC methods on the node
 * and the web app's sign-in routes (`/app/*`) on the HTTP server.
 */
export async function attachChat(_options: ChatModuleOptions): Promise<ChatModule> {
  return { close: async () => undefined };
}
