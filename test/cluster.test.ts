import { LocalCluster } from '../src/cluster/local-cluster.js';
import { RedisCluster } from '../src/cluster/redis-cluster.js';
import { runClusterContract } from './contracts/cluster-contract.js';
import { connectRedis, uniquePrefix } from './helpers/redis-service.js';

runClusterContract('one process', 1, async () => ({
  clusters: [new LocalCluster()],
  kill: async () => {
    throw new Error('one process cannot lose a node');
  },
  cleanup: async () => {},
}));

runClusterContract('redis', 3, async (count) => {
  // Each node has its own command and subscriber clients, as separate processes would; periods are short to keep the test quick.
  const prefix = uniquePrefix('cluster');
  const clients = await Promise.all(Array.from({ length: count }, async () => ({ commands: await connectRedis(), subscriber: await connectRedis() })));
  const clusters = clients.map(
    ({ commands, subscriber }) => new RedisCluster(commands, subscriber, { prefix, heartbeatMs: 100, evictAfterMs: 400, surveyTimeoutMs: 1_000 }),
  );
  const killed = new Set<number>();
  const release = (i: number) => {
    killed.add(i);
    clients[i]!.commands.destroy();
    clients[i]!.subscriber.destroy();
  };
  return {
    clusters,
    kill: async (i) => release(i),
    cleanup: async () => {
      clients.forEach((_, i) => killed.has(i) || release(i));
    },
  };
});
