import type { FastifyInstance } from 'fastify';
import type { ChatModule } from '../chat/chat-module.js';
import { DEFAULT_ROOM } from '../chat/protocol.js';
import type { Config } from '../config/types.js';
import type { AddressLimiters } from '../http/address-limit.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import type { UpgradeRouter } from '../transport/upgrade-router.js';
import { registerAllMessagesRoute } from './all-messages-route.js';
import { registerAuthRoute } from './scaledrone-auth.js';
import { SeedBroadcast } from './seed-broadcast.js';

/** Path of the broadcast chat seed's WebSocket endpoint. */
export const SEED_WEBSOCKET_PATH = '/ws';
/** The conversation the seed endpoints serve. */
export const SEED_CHANNEL = `room:${DEFAULT_ROOM}`;

export interface SeedEndpointsOptions {
  config: Config;
  node: Node;
  http: FastifyInstance;
  router: UpgradeRouter;
  chat: ChatModule;
  logger: Logger;
  /** Where the `POST /auth` limit counts. @default memoryAddressLimiters */
  addressLimiters?: AddressLimiters;
}

/** Running seed endpoints; `close` detaches the bridge and closes `/ws` clients. */
export interface SeedEndpoints {
  close(): Promise<void>;
}

/** Whether the seed endpoints are served: in the modes where anyone may join (`open`, `guest`). */
export function seedEndpointsOpen(config: Pick<Config, 'authMode'>): boolean {
  return config.authMode === 'open' || config.authMode === 'guest';
}

/**
 * The endpoints that keep the seed tutorials' clients working unchanged
 * (in `open` and `guest` modes only, see {@link seedEndpointsOpen}):
 * `/ws` (broadcast chat bridged to `room:general`), `GET /getAllMessages`
 * and `POST /auth` (Scaledrone-style tokens).
 */
export async function registerSeedEndpoints(options: SeedEndpointsOptions): Promise<SeedEndpoints> {
  const { config, node, http, router, chat } = options;
  const logger = options.logger.child({ component: 'seed' });
  const authRoute = { config, logger, ...(options.addressLimiters ? { addressLimiters: options.addressLimiters } : {}) };
  // They let anyone read and post to #general without an account: only where anyone may join anyway.
  // `POST /auth` stays, to answer 403 with a reason rather than 404.
  if (!seedEndpointsOpen(config)) {
    await registerAuthRoute(http, authRoute);
    return { close: async () => undefined };
  }

  const broadcast = new SeedBroadcast({
    node,
    chat,
    logger,
    channel: SEED_CHANNEL,
    maxQueuedBytes: config.maxQueuedBytes,
    pingInterval: config.pingInterval,
    pongTimeout: config.pongTimeout,
  });
  await broadcast.start();
  router.route(SEED_WEBSOCKET_PATH, (ws) => broadcast.accept(ws));
  registerAllMessagesRoute(http, { chat, logger, channel: SEED_CHANNEL });
  await registerAuthRoute(http, authRoute);

  return { close: () => broadcast.close() };
}
