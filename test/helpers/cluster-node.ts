/**
 * Servers that form one cluster on a Redis: each with its own command and
 * subscriber clients, Redis presence with its ledger, and short heartbeat
 * periods so that eviction is quick.
 */
import { randomUUID } from 'node:crypto';
import { RedisConnectionDenials } from '../../src/cluster/connection-denials.js';
import { RedisCluster } from '../../src/cluster/redis-cluster.js';
import { sharedAddressLimiters } from '../../src/http/shared-address-limit.js';
import { RedisPresence } from '../../src/presence/redis-presence.js';
import { connectRedis, type TestRedisClient } from './redis-service.js';
import { startTestServer, type TestServer } from './server.js';

export const TEST_HEARTBEAT = { heartbeatMs: 200, evictAfterMs: 800, surveyTimeoutMs: 1_000 } as const;

export interface ClusterTestNode {
  ts: TestServer;
  id: string;
  commands: TestRedisClient;
  /** Falls silent as a crashed node does: its Redis connections drop, with no goodbye and no cleanup. */
  kill(): void;
  /** Stops the server and closes its clients (whether killed or not). */
  stop(): Promise<void>;
}

export interface ClusterNodeOptions {
  /** Makes the node's Redis clients. @default connectRedis (the shared service) */
  connect?: () => Promise<TestRedisClient>;
  /** Extra server flags. */
  flags?: string[];
}

export async function startClusterNode(prefix: string, options: ClusterNodeOptions = {}): Promise<ClusterTestNode> {
  const connect = options.connect ?? connectRedis;
  const id = randomUUID();
  const [commands, subscriber] = [await connect(), await connect()];
  const presence = new RedisPresence(commands, { prefix: `${prefix}presence:`, node: id });
  const cluster = new RedisCluster(commands, subscriber, { prefix: `${prefix}cluster:`, ...TEST_HEARTBEAT });
  const connectionDenials = new RedisConnectionDenials(commands, `${prefix}deny:`);
  const addressLimiters = sharedAddressLimiters(commands, { prefix: `${prefix}limit:` });
  const ts = await startTestServer({
    flags: options.flags ?? [],
    parts: { nodeId: id, cluster, presence, presenceLedger: presence, connectionDenials, addressLimiters },
  });
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    commands.destroy();
    subscriber.destroy();
  };
  return {
    ts,
    id,
    commands,
    kill,
    stop: async () => {
      await ts.stop();
      kill();
    },
  };
}
