import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../ops/metrics.js';

export interface HttpServerOptions {
  logger: Logger;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Reverse proxies whose forwarded headers are believed (see `Config.trustProxy`). */
  trustProxy: readonly string[];
  /** Whether the server can take traffic now (false before start-up completes and during shutdown). */
  isReady: () => boolean;
  /** Names of the backing services whose probe fails now (none on a single node). */
  failingServices: () => readonly string[];
  /** The server's metrics, served at `/metrics`. */
  metrics: Metrics;
}

/**
 * The HTTP side of the server: health endpoints here; other route groups
 * (server API, seed endpoints, web app) register on the returned instance.
 * WebSocket upgrades are routed on `instance.server` by the upgrade router.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // One line per request would drown the log; failures are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    // Forwarded headers only from the proxies the operator named: anyone else could claim any address.
    trustProxy: options.trustProxy.length > 0 ? [...options.trustProxy] : false,
  });

  /** Liveness: the process runs and its event loop answers. */
  app.get('/health', async () => ({ status: 'ok' }));

  /** Readiness: storage is open, the server accepts connections, and every backing service answers its probe. */
  app.get('/ready', async (_request, reply) => {
    if (!options.isReady()) return reply.code(503).send({ status: 'unavailable' });
    // Services by name only: their URLs carry credentials.
    const failing = options.failingServices();
    if (failing.length > 0) return reply.code(503).send({ status: 'unavailable', failing });
    return { status: 'ready' };
  });

  /**
   * Prometheus scrape endpoint. Open like the health routes: it carries
   * counts and latencies only, no channel names, users or secrets.
   */
  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.exposition();
    return reply.header('content-type', options.metrics.contentType).send(text);
  });

  return app;
}
