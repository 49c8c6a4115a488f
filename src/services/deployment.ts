import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import type { AccountStore } from '../accounts/account-store.js';
import { PostgresAccountStore } from '../accounts/postgres-account-store.js';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../accounts/sqlite-account-store.js';
import type { Broker } from '../broker/broker.js';
import { MemoryBroker } from '../broker/memory-broker.js';
import { RedisBroker } from '../broker/redis-broker.js';
import type { ChatStore } from '../chat/chat-store.js';
import { PostgresChatStore } from '../chat/postgres-chat-store.js';
import type { Cluster } from '../cluster/cluster.js';
import { MemoryConnectionDenials, RedisConnectionDenials, type ConnectionDenials } from '../cluster/connection-denials.js';
import { LocalCluster } from '../cluster/local-cluster.js';
import { RedisCluster } from '../cluster/redis-cluster.js';
import type { Config } from '../config/types.js';
import { memoryAddressLimiters, type AddressLimiters } from '../http/address-limit.js';
import { sharedAddressLimiters } from '../http/shared-address-limit.js';
import type { Logger } from '../log/logger.js';
import { MemoryPresence } from '../presence/memory-presence.js';
import type { PresenceLedger } from '../presence/presence-ledger.js';
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
  /** This node's id: `info` uid, control channels, presence ledger. */
  readonly nodeId: string;
  readonly store: Store;
  readonly broker: Broker;
  readonly presence: PresenceManager;
  /** The other nodes of the deployment: this process alone, or the nodes on the same Redis. */
  readonly cluster: Cluster;
  /** Users just disconnected for good by the server API, refused for a moment on every node. */
  readonly connectionDenials: ConnectionDenials;
  /** Where sign-in and token request limits count: this node, or shared through Redis. */
  readonly addressLimiters: AddressLimiters;
  /** With Redis: which node added each presence entry, so survivors purge a dead node's entries. */
  readonly presenceLedger?: PresenceLedger;
  /** The chat store, with `postgresUrl`; otherwise the chat module opens SQLite in `dataDir`. */
  readonly chatStore?: ChatStore;
  /** Accounts, sessions and invitations (not yet opened; the chat module opens and closes it): PostgreSQL with `postgresUrl`, else `<dataDir>/accounts.db`. */
  readonly accounts: AccountStore;
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
  /** @default a random UUID */
  nodeId?: string;
  store?: Store;
  broker?: Broker;
  presence?: PresenceManager;
  cluster?: Cluster;
  connectionDenials?: ConnectionDenials;
  addressLimiters?: AddressLimiters;
  /** Usually the Redis presence, made with `node: nodeId`. */
  presenceLedger?: PresenceLedger;
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
  const nodeId = overrides.nodeId ?? randomUUID();
  const redisPresence = redis && !overrides.presence ? new RedisPresence(redis.commands, { prefix: `${prefix}presence:`, node: nodeId }) : undefined;
  const presenceLedger = overrides.presenceLedger ?? redisPresence;
  let closing: Promise<void> | undefined;
  return {
    nodeId,
    store: overrides.store ?? (sql ? new PostgresStore({ sql, logger }) : sqliteStore(config, logger)),
    broker: overrides.broker ?? (redis ? new RedisBroker(redis.commands, redis.subscriber, { logger, prefix: `${prefix}broker:` }) : new MemoryBroker()),
    presence: overrides.presence ?? redisPresence ?? new MemoryPresence(),
    cluster: overrides.cluster ?? (redis ? new RedisCluster(redis.commands, redis.subscriber, { prefix: `${prefix}cluster:`, logger }) : new LocalCluster()),
    connectionDenials: overrides.connectionDenials ?? (redis ? new RedisConnectionDenials(redis.commands, `${prefix}deny:`) : new MemoryConnectionDenials()),
    addressLimiters: overrides.addressLimiters ?? (redis ? sharedAddressLimiters(redis.commands, { prefix: `${prefix}limit:`, logger }) : memoryAddressLimiters),
    ...(presenceLedger ? { presenceLedger } : {}),
    accounts: sql ? new PostgresAccountStore({ sql }) : sqliteAccounts(config),
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

function sqliteAccounts(config: Config): AccountStore {
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteAccountStore({ path: join(config.dataDir, ACCOUNTS_DB_FILE) });
}
