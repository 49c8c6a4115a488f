import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';

export interface HttpServerOptions {
  logger: Logger;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Whether the server can take traffic now (false before start-up completes and during shutdown). */
  isReady: () => boolean;
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
    // Clients talk JSON; a proxy in front may be configured separately.
    trustProxy: false,
  });

  /** Liveness: the process runs and its event loop answers. */
  app.get('/health', async () => ({ status: 'ok' }));

  /** Readiness: storage is open and the server accepts connections. */
  app.get('/ready', async (_request, reply) => {
    if (options.isReady()) return { status: 'ready' };
    return reply.code(503).send({ status: 'unavailable' });
  });

  return app;
}
