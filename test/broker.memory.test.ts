import { MemoryBrokerHub } from '../src/broker/memory-broker.js';
import { runBrokerContract } from './contracts/broker-contract.js';

runBrokerContract('memory', async (count) => {
  const hub = new MemoryBrokerHub();
  return { brokers: Array.from({ length: count }, () => hub.createBroker()), cleanup: async () => undefined };
});
