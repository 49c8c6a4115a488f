import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Authenticator } from './auth/authenticator.js';
import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import { ChannelResolver } from './channel/channel.js';
import type { Config } from './config/types.js';
import { registerServerApi } from './api/server-api.js';
import { attachChat } from './chat/chat-module.js';
import type { Cluster } from './cluster/cluster.js';
import { MemoryConnectionDenials, type ConnectionDenials } from './cluster/connection-denials.js';
import { DeadNodePresence } from './cluster/dead-node-presence.js';
import { LocalCluster } from './cluster/local-cluster.js';
import { answerForNode } from './cluster/node-questions.js';
import { registerSeedEndpoints } from './compat/seed-endpoints.js';
import type { AddressLimiters } from './http/address-limit.js';
import { createHttpServer } from './http/http-server.js';
import { browsableUrl, guestSignInNotice } from './http/listen-address.js';
import { registerWebApp } from './http/web-app.js';
import type { Logger } from './log/logger.js';
import { Node } from './node/node.js';
import { MemoryPresence } from './presence/memory-presence.js';
import type { PresenceLedger } from './presence/presence-ledger.js';
import type { PresenceManager } from './presence/presence.js';
import { Deadlines } from './session/deadlines.js';
import { Heartbeat } from './session/heartbeat.js';
import { webSocketSessions } from './session/websocket-binding.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import { UpgradeRouter } from './transport/upgrade-router.js';
import { directWriteUnavailableReason } from './transport/direct-write.js';

/** Path of the Centrifuge-protocol WebSocket endpoint. */
export const WEBSOCKET_PATH = '/connection/websocket';

/** Where `npm run build:web` puts the web app. */
const WEB_ROOT = fileURLToPath(new URL('../dist/web', import.meta.url));

/** The server version, from package.json (reported to clients on connect). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ServerParts {
  /** Defaults to SQLite in `config.dataDir`. */
  store?: Store;
  /** Defaults to an in-process broker. */
  broker?: Broker;
  /** Defaults to in-process presence. */
  presence?: PresenceManager;
  /** Where sign-in and token request limits count: each node alone by default, shared through Redis in a cluster (`sharedAddressLimiters`). */
  addressLimiters?: AddressLimiters;
  /** Users just disconnected for good by the server API (`RedisConnectionDenials` in a cluster). Defaults to this process's memory. */
  connectionDenials?: ConnectionDenials;
  /** The other nodes of the deployment. Defaults to this process alone. */
  cluster?: Cluster;
  /**
   * This node's id in the cluster (`info` uid, control channels, presence ledger).
   * @default a random UUID
   */
  nodeId?: string;
  /**
   * Where presence records which node added each entry (usually the Redis
   * presence, made with `node: nodeId`): with it, this node purges dead
   * nodes' entries and re-adds its own when presence comes back from a loss.
   */
  presenceLedger?: PresenceLedger;
}

/** A running server. */
export interface ParleyServer {
  readonly config: Config;
  readonly node: Node;
  readonly http: FastifyInstance;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://host:port` of the listening socket. */
  readonly url: string;
  /**
   * Graceful shutdown: stop accepting, let pending writes become durable,
   * close clients with the shutdown code (they reconnect elsewhere), release
   * storage. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The composition root: the one place that picks implementations and wires
 * transport, sessions, node, broker, presence, store and HTTP together.
 */
export async function startServer(config: Config, logger: Logger, parts: ServerParts = {}): Promise<ParleyServer> {
  let ready = false;
  const store = parts.store ?? defaultStore(config, logger);
  await store.open();

  const cluster = parts.cluster ?? new LocalCluster();
  const denials = parts.connectionDenials ?? new MemoryConnectionDenials();
  const node = new Node({
    ...(parts.nodeId ? { id: parts.nodeId } : {}),
    config,
    store,
    broker: parts.broker ?? new MemoryBroker(),
    presence: parts.presence ?? new MemoryPresence(),
    channels: new ChannelResolver(config),
    logger,
  });
  const heartbeat = new Heartbeat(config.pingInterval, config.pongTimeout);
  const deadlines = new Deadlines((error) => logger.error({ err: error }, 'session deadline failed'));
  const http = createHttpServer({ logger, bodyLimit: config.maxMessageSize, isReady: () => ready });
  const router = new UpgradeRouter({
    maxPayload: config.maxMessageSize,
    allowedOrigins: config.allowedOrigins,
    onRefused: (reason, request) =>
      logger.info({ reason, path: request.url?.split('?', 1)[0], origin: request.headers.origin }, 'websocket upgrade refused'),
  });
  const sessionContext = { node, heartbeat, deadlines, logger, authenticator: new Authenticator(config.tokenSecret, logger), version: VERSION, denials };
  router.route(WEBSOCKET_PATH, webSocketSessions(sessionContext));
  router.attach(http.server);
  const limits = parts.addressLimiters ? { addressLimiters: parts.addressLimiters } : {};
  const chat = await attachChat({ config, node, http, logger, dataDir: config.dataDir, ...limits });
  const seeds = await registerSeedEndpoints({ config, node, http, router, chat, logger, ...limits });
  await registerServerApi({ config, node, http, chat, logger, cluster, denials });
  answerForNode(cluster, node);
  if (parts.presenceLedger) {
    new DeadNodePresence(cluster, parts.presenceLedger, node, logger).start();
    parts.presenceLedger.onReconnect(() => {
      logger.info('presence service is back: re-adding this node\'s entries');
      void node.refreshPresence();
    });
  }
  if (!(await registerWebApp(http, WEB_ROOT))) logger.warn({ path: WEB_ROOT }, 'web app not built (npm run build:web); serving the API only');
  if (directWriteUnavailableReason) logger.warn({ reason: directWriteUnavailableReason }, 'socket writes go through Node streams (slower fan-out)');

  // Fastify logs one line per address it can be reached at; on 0.0.0.0 these are the
  // machine's interfaces, worth knowing when colleagues connect from elsewhere.
  await http.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `reachable at ${address}` });
  node.start();
  heartbeat.start();
  const address = http.server.address() as AddressInfo;
  await cluster.start({ id: node.id, name: `${hostname()}_${address.port}`, version: VERSION, stats: () => node.stats() });
  ready = true;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const openAt = browsableUrl(address);
  logger.info({ url: openAt, listen: `${host}:${address.port}`, websocket: WEBSOCKET_PATH }, `parley listening on ${openAt}`);
  if (config.guestSignIn) {
    const notice = guestSignInNotice(address);
    logger[notice.level](notice.message);
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ready = false;
      // The others drop this node at once rather than evicting it (and purging its presence) later.
      await cluster.close();
      router.stopAccepting();
      const httpClosed = http.close();
      const sessions = [...node.allSessions()];
      for (const session of sessions) session.drain();
      // Pending publishes finish becoming durable before clients are told to go.
      // Both start at once: from now on new chat operations are refused, running ones finish.
      await Promise.all([seeds.close(), chat.close()]);
      await store.close();
      for (const session of sessions) session.shutdown();
      heartbeat.stop();
      deadlines.stop();
      await node.close();
      await router.drain(config.shutdownTimeout * 1000);
      http.server.closeAllConnections();
      await httpClosed;
      logger.info('parley stopped');
    })();
    return closing;
  };

  return { config, node, http, port: address.port, url: `http://${host}:${address.port}`, close };
}

function defaultStore(config: Config, logger: Logger): Store {
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteStore({ path: join(config.dataDir, 'parley.db'), logger });
}
