import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import type { Broker } from '../broker/broker.js';
import { MemoryBroker } from '../broker/memory-broker.js';
import type { ChatStore } from '../chat/chat-store.js';
import { PostgresChatStore } from '../chat/postgres-chat-store.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { MemoryPresence } from '../presence/memory-presence.js';
import type { PresenceManager } from '../presence/presence.js';
import { RedisPresence } from '../presence/redis-presence.js';
import { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { ServiceProbe } from '../ops/service-probe.js';
import { createPostgresClient } from './postgres-client.js';
import { connectRedisClients, type RedisClients } from './redis-clients.js';

/**
 * The implementations one node runs on, picked from the configuration:
 * embedded SQLite and in-process broker and presence by default; PostgreSQL
 * for the stores with `postgresUrl`; Redis for the bus and presence with
 * `redisUrl`. The one place that opens service connections.
 */
export interface Deployment {
  readonly store: Store;
  readonly broker: Broker;
  readonly presence: PresenceManager;
  /** The chat store, with `postgresUrl`; otherwise the chat module opens SQLite in `dataDir`. */
  readonly chatStore?: ChatStore;
  /** The PostgreSQL client the stores share, with `postgresUrl`. */
  readonly sql?: Sql;
  /** The Redis connections, with `redisUrl`. */
  readonly redis?: RedisClients;
  /** Checks of the services in use (none for a single node on SQLite): `/ready` fails while one fails. */
  readonly probes: readonly ServiceProbe[];
  /** Ends the service connections; call after the stores, broker and presence are closed. Idempotent. */
  close(): Promise<void>;
}

/** Parts a caller (a test, an embedding application) provides instead of the configured ones. */
export interface DeploymentOverrides {
  store?: Store;
  broker?: Broker;
  presence?: PresenceManager;
  /** Checks of services these parts use, in addition to the configured services' checks. */
  probes?: readonly ServiceProbe[];
}

export async function openDeployment(config: Config, logger: Logger, overrides: DeploymentOverrides = {}): Promise<Deployment> {
  const sql = config.postgresUrl !== '' ? createPostgresClient(config.postgresUrl) : undefined;
  let redis: RedisClients | undefined;
  try {
    if (config.redisUrl !== '') redis = await connectRedisClients(config.redisUrl, logger);
  } catch (error) {
    await sql?.end({ timeout: 1 });
    throw error;
  }
  const prefix = config.redisPrefix;
  let closing: Promise<void> | undefined;
  return {
    store: overrides.store ?? (sql ? new PostgresStore({ sql, logger }) : sqliteStore(config, logger)),
    broker: overrides.broker ?? new MemoryBroker(),
    presence: overrides.presence ?? (redis ? new RedisPresence(redis.commands, { prefix: `${prefix}presence:` }) : new MemoryPresence()),
    ...(sql ? { sql, chatStore: new PostgresChatStore({ sql, logger: logger.child({ component: 'chat' }) }) } : {}),
    ...(redis ? { redis } : {}),
    probes: [...serviceProbes(sql, redis), ...(overrides.probes ?? [])],
    close: () => {
      closing ??= Promise.allSettled([sql?.end({ timeout: 5 }), redis?.close()]).then(() => undefined);
      return closing;
    },
  };
}

/**
 * A cheap round trip to each service in use. The clients fail fast while a
 * service is down (no offline queue for Redis, a 5 s connect timeout for
 * PostgreSQL), so a probe notices an outage within its timeout.
 */
function serviceProbes(sql: Sql | undefined, redis: RedisClients | undefined): ServiceProbe[] {
  const probes: ServiceProbe[] = [];
  if (sql) probes.push(new ServiceProbe({ service: 'postgres', check: async () => void (await sql`SELECT 1`) }));
  if (redis) {
    probes.push(new ServiceProbe({ service: 'redis', check: async () => void (await redis.commands.ping()) }));
    // The subscriber connection carries every live delivery between nodes: a node without it is not ready either.
    probes.push(new ServiceProbe({ service: 'redis-subscriber', check: async () => { if (!redis.subscriber.isReady) throw new Error('subscriber connection down'); } }));
  }
  return probes;
}

function sqliteStore(config: Config, logger: Logger): Store {
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteStore({ path: join(config.dataDir, 'parley.db'), logger });
}
