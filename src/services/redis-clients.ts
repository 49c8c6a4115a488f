import { createClient } from 'redis';
import type { Logger } from '../log/logger.js';
import { ServiceLog } from './service-log.js';

/** A connected node-redis client. */
export type RedisClient = ReturnType<typeof createClient>;

/** The Redis connections of one node. */
export interface RedisClients {
  /** For commands (PUBLISH, scripts, counters). */
  readonly commands: RedisClient;
  /** For SUBSCRIBE only: a connection in subscribed mode cannot run other commands. */
  readonly subscriber: RedisClient;
  /** Closes both connections. Idempotent. */
  close(): Promise<void>;
}

/** Longest pause between reconnect attempts. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * Opens a node's two Redis connections and resolves once both are ready.
 *
 * They reconnect by themselves, forever, with a growing pause of at most 2 s.
 * Commands issued while a connection is down fail at once rather than
 * queueing (`disableOfflineQueue`): callers see the outage, and nothing
 * piles up in memory behind it. A ping every 5 s keeps each connection
 * busy, so one that hears nothing for 15 s has died without a TCP close (a
 * cut cable, a dropped route): it is closed, its commands fail, and it
 * reconnects.
 */
export async function connectRedisClients(url: string, logger: Logger): Promise<RedisClients> {
  const commands: RedisClient = createClient({
    url,
    disableOfflineQueue: true,
    pingInterval: 5_000,
    socket: { connectTimeout: 5_000, socketTimeout: 15_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 6), MAX_RECONNECT_DELAY_MS) },
  });
  const subscriber = commands.duplicate();
  watch(commands, new ServiceLog(logger, 'redis'));
  watch(subscriber, new ServiceLog(logger, 'redis subscriber'));
  try {
    await Promise.all([commands.connect(), subscriber.connect()]);
  } catch (error) {
    commands.destroy();
    subscriber.destroy();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    commands,
    subscriber,
    close: () => {
      closing ??= Promise.allSettled([commands.close(), subscriber.close()]).then(() => undefined);
      return closing;
    },
  };
}

function watch(client: RedisClient, log: ServiceLog): void {
  // Without an 'error' listener a lost connection would crash the process.
  client.on('error', (error: unknown) => log.failed(error));
  client.on('ready', () => log.restored());
}
