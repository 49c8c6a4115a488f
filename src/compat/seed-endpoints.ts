import type { FastifyInstance } from 'fastify';
import type { ChatModule } from '../chat/chat-module.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import type { UpgradeRouter } from '../transport/upgrade-router.js';

export interface SeedEndpointsOptions {
  config: Config;
  node: Node;
  http: FastifyInstance;
  router: UpgradeRouter;
  chat: ChatModule;
  logger: Logger;
}

/** Running seed endpoints; `close` detaches the bridge and closes `/ws` clients. */
export interface SeedEndpoints {
  close(): Promise<void>;
}

/**
 * The endpoints that keep the seed tutorials' clients working unchanged:
 * `/ws` (broadcast chat bridged to `room:general`), `GET /getAllMessages`
 * and `POST /auth` (Scaledrone-style tokens).
 */
export async function registerSeedEndpoints(_options: SeedEndpointsOptions): Promise<SeedEndpoints> {
  return { close: async () => undefined };
}
