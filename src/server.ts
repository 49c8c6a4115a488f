import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AccountGate } from './accounts/account-gate.js';
import { Authenticator } from './auth/authenticator.js';
import { ChannelResolver } from './channel/channel.js';
import type { Config } from './config/types.js';
import { registerServerApi } from './api/server-api.js';
import { attachChat, type ChatModule } from './chat/chat-module.js';
import { DeadNodePresence } from './cluster/dead-node-presence.js';
import { answerEmulation } from './cluster/emulation-relay.js';
import { answerForNode } from './cluster/node-questions.js';
import { registerSeedEndpoints } from './compat/seed-endpoints.js';
import { createHttpServer } from './http/http-server.js';
import { browsableUrl, joinNotice } from './http/listen-address.js';
import { registerStreamRoutes } from './http/stream-routes.js';
import { registerWebApp } from './http/web-app.js';
import type { Logger } from './log/logger.js';
import { Node } from './node/node.js';
import { Metrics } from './ops/metrics.js';
import { Deadlines } from './session/deadlines.js';
import { Heartbeat } from './session/heartbeat.js';
import { openDeployment, type DeploymentOverrides } from './services/deployment.js';
import { EmulationSessions } from './session/emulation-sessions.js';
import { httpStreamSessions } from './session/http-stream-binding.js';
import { SESSION_SUBPROTOCOLS, webSocketSessions } from './session/websocket-binding.js';
import { UpgradeRouter } from './transport/upgrade-router.js';
import { BackendProxy } from './proxy/backend-proxy.js';
import { directWriteUnavailableReason } from './transport/direct-write.js';

/** Path of the Centrifuge-protocol WebSocket endpoint. */
export const WEBSOCKET_PATH = '/connection/websocket';

/** Where `npm run build:web` puts the web app. */
const WEB_ROOT = fileURLToPath(new URL('../dist/web', import.meta.url));

/** The server version, from package.json (reported to clients on connect). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Parts given instead of the configured ones (see `openDeployment`): by
 * default the store is SQLite in `config.dataDir` (PostgreSQL with
 * `postgresUrl`), broker and presence are in-process (Redis with `redisUrl`);
 * `probes` are checked in addition to those of the configured services.
 */
export type ServerParts = DeploymentOverrides;

/** A running server. */
export interface ParleyServer {
  readonly config: Config;
  readonly node: Node;
  readonly http: FastifyInstance;
  /** This server's metrics (served at `/metrics`). */
  readonly metrics: Metrics;
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
  // Before any service opens: a key file that cannot be read stops the start with nothing to close.
  const authenticator = Authenticator.forConfig(config, logger);
  const deployment = await openDeployment(config, logger, parts);
  const { store } = deployment;
  try {
    await store.open();
  } catch (error) {
    await deployment.close();
    throw error;
  }

  const metrics = new Metrics();
  const probes = deployment.probes;
  const { cluster, connectionDenials: denials } = deployment;
  const node = new Node({
    id: deployment.nodeId,
    config,
    store,
    broker: deployment.broker,
    presence: deployment.presence,
    channels: new ChannelResolver(config),
    logger,
    metrics,
  });
  metrics.observeLoad({ connections: () => node.stats().clients, subscriptions: () => node.stats().subscriptions });
  const heartbeat = new Heartbeat(config.pingInterval, config.pongTimeout);
  const deadlines = new Deadlines((error) => logger.error({ err: error }, 'session deadline failed'));
  const http = createHttpServer({
    logger,
    bodyLimit: config.maxMessageSize,
    trustProxy: config.trustProxy,
    isReady: () => ready,
    failingServices: () => probes.filter((probe) => !probe.healthy).map((probe) => probe.service),
    metrics,
  });
  const router = new UpgradeRouter({
    maxPayload: config.maxMessageSize,
    allowedOrigins: config.allowedOrigins,
    onRefused: (reason, request) =>
      logger.info({ reason, path: request.url?.split('?', 1)[0], origin: request.headers.origin }, 'websocket upgrade refused'),
  });
  const gate = new AccountGate(deployment.accounts, logger);
  const proxy = BackendProxy.fromConfig(config, logger, metrics);
  const sessionContext = { node, heartbeat, deadlines, logger, authenticator, version: VERSION, denials, gate, proxy };
  router.route(WEBSOCKET_PATH, webSocketSessions(sessionContext), SESSION_SUBPROTOCOLS);
  router.attach(http.server);
  let chat: ChatModule | undefined;
  let seeds: { close(): Promise<void> } | undefined;
  let address: AddressInfo | undefined;
  let started = false;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ready = false;
      const probesStopped = Promise.all(probes.map((probe) => probe.stop()));
      // The others drop this node at once rather than evicting it (and purging its presence) later.
      const leftCluster = cluster.close();
      router.stopAccepting();
      const httpClosed = http.close();
      const sessions = [...node.allSessions()];
      for (const session of sessions) session.drain();
      // Pending publishes finish becoming durable before clients are told to go.
      // Both start at once: from now on new chat operations are refused, running ones finish.
      await Promise.all([seeds?.close(), chat?.close()]);
      await store.close();
      for (const session of sessions) session.shutdown();
      heartbeat.stop();
      deadlines.stop();
      await node.close();
      await leftCluster;
      await deployment.close();
      await router.drain(config.shutdownTimeout * 1000);
      http.server.closeAllConnections();
      await httpClosed;
      await probesStopped;
      metrics.close();
      if (started) logger.info('parley stopped');
    })();
    return closing;
  };

  try {
    const limits = { addressLimiters: deployment.addressLimiters };
    const chatStore = deployment.chatStore ? { store: deployment.chatStore } : {};
    const disconnects = { cluster, denials, logger };
    chat = await attachChat({ config, node, http, logger, dataDir: config.dataDir, accounts: deployment.accounts, cluster, disconnects, ...limits, ...chatStore });
    seeds = await registerSeedEndpoints({ config, node, http, router, chat, logger, ...limits });
    await registerServerApi({ config, node, http, chat, logger, cluster, denials });
    answerForNode(cluster, node);
    const emulated = new EmulationSessions(cluster.questionTimeoutMs);
    answerEmulation(cluster, emulated);
    await registerStreamRoutes(http, {
      accept: httpStreamSessions(sessionContext, emulated),
      cluster,
      allowedOrigins: config.allowedOrigins,
      maxMessageSize: config.maxMessageSize,
      accepting: () => closing === undefined,
      logger,
    });
    const { presenceLedger } = deployment;
    if (presenceLedger) {
      new DeadNodePresence(cluster, presenceLedger, node, logger).start();
      presenceLedger.onReconnect(() => {
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
    metrics.monitorEventLoop();
    // The first checks settle before the server calls itself ready; a service that is down then just keeps /ready failing.
    await Promise.all(probes.map((probe) => probe.start(metrics)));
    address = http.server.address() as AddressInfo;
    await cluster.start({ id: node.id, name: `${hostname()}_${address.port}`, version: VERSION, stats: () => node.stats() });
    ready = true;
    started = true;
  } catch (error) {
    // A failed start releases what it had opened (service connections, timers, the listening socket).
    await close().catch(() => undefined);
    throw error;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const openAt = browsableUrl(address);
  logger.info({ url: openAt, listen: `${host}:${address.port}`, websocket: WEBSOCKET_PATH }, `parley listening on ${openAt}`);
  const notice = joinNotice(config.authMode, address, (await deployment.accounts.countAdmins()) === 0);
  if (notice) logger[notice.level](notice.message);

  return { config, node, http, metrics, port: address.port, url: `http://${host}:${address.port}`, close };
}
