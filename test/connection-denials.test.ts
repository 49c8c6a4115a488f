import { MemoryConnectionDenials, RedisConnectionDenials } from '../src/cluster/connection-denials.js';
import { runConnectionDenialsContract } from './contracts/connection-denials-contract.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers/redis-service.js';

runConnectionDenialsContract('memory', async () => {
  const shared = new MemoryConnectionDenials();
  return { nodes: [shared, shared], cleanup: async () => {} };
});

runConnectionDenialsContract('redis', async () => {
  const prefix = uniquePrefix('deny');
  const [a, b] = [await connectRedis(), await connectRedis()];
  return {
    nodes: [new RedisConnectionDenials(a, prefix), new RedisConnectionDenials(b, prefix)],
    cleanup: async () => {
      await deleteKeys(a, prefix);
      await Promise.all([a.close(), b.close()]);
    },
  };
});
