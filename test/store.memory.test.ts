import { MemoryStore } from '../src/store/memory-store.js';
import { runStoreContract } from './contracts/store-contract.js';

// Not durable: no `reopen`, so the contract's durability tests are skipped.
runStoreContract('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
