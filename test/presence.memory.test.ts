import { MemoryPresence } from '../src/presence/memory-presence.js';
import { runPresenceContract } from './contracts/presence-contract.js';

runPresenceContract('memory', async (count) => {
  // One process has one presence state: every "node" shares the same manager, on a manual clock.
  let now = 1_000_000;
  const shared = new MemoryPresence(() => now);
  return {
    managers: Array.from({ length: count }, () => shared),
    advance: async (ms) => {
      now += ms;
    },
    cleanup: () => shared.close(),
  };
});
