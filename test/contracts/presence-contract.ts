/**
 * The PresenceManager contract (see src/presence/presence.ts). `makeNodes`
 * returns managers that act as separate nodes sharing one presence state;
 * `advance` moves their clock forward (or waits, for real-clock backends).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PresenceManager } from '../../src/presence/presence.js';

export function runPresenceContract(
  name: string,
  makeNodes: (count: number) => Promise<{ managers: PresenceManager[]; advance: (ms: number) => Promise<void>; cleanup: () => Promise<void> }>,
): void {
  describe(`PresenceManager contract: ${name}`, () => {
    async function withNodes(count: number, body: (m: PresenceManager[], advance: (ms: number) => Promise<void>) => Promise<void>) {
      const { managers, advance, cleanup } = await makeNodes(count);
      try {
        await body(managers, advance);
      } finally {
        await Promise.all(managers.map((m) => m.close()));
        await cleanup();
      }
    }

    test('entries are per connection; users with several connections count once; visible from every node', async () => {
      await withNodes(2, async ([a, b]) => {
        await a!.add('room', { user: 'ann', client: 'c1', conn_info: { name: 'Ann' } }, 60_000);
        await b!.add('room', { user: 'ann', client: 'c2' }, 60_000);
        await b!.add('room', { user: 'bob', client: 'c3' }, 60_000);
        const seen = await a!.get('room');
        assert.deepEqual([...seen.keys()].sort(), ['c1', 'c2', 'c3']);
        assert.deepEqual(seen.get('c1'), { user: 'ann', client: 'c1', conn_info: { name: 'Ann' } });
        assert.deepEqual(await b!.stats('room'), { numClients: 3, numUsers: 2 });
        const users = await a!.users('room');
        assert.deepEqual([users.has('ann'), users.has('bob'), users.has('cid'), users.size], [true, true, false, 2]);
        await a!.remove('room', 'c2');
        await a!.remove('room', 'absent');
        assert.deepEqual(await b!.stats('room'), { numClients: 2, numUsers: 2 });
        assert.equal((await b!.users('room')).has('ann'), true, 'Ann is still here with her other connection');
        await b!.remove('room', 'c1');
        assert.deepEqual([(await a!.users('room')).has('ann'), (await a!.users('room')).size], [false, 1]);
        assert.deepEqual(await a!.stats('empty'), { numClients: 0, numUsers: 0 });
      });
    });

    test('entries expire unless refreshed within the TTL', async () => {
      await withNodes(1, async ([a], advance) => {
        await a!.add('room', { user: 'ann', client: 'c1' }, 1_000);
        await a!.add('room', { user: 'bob', client: 'c2' }, 1_000);
        await advance(600);
        await a!.add('room', { user: 'bob', client: 'c2' }, 1_000);
        await advance(600);
        assert.deepEqual([...(await a!.get('room')).keys()], ['c2']);
        assert.deepEqual(await a!.stats('room'), { numClients: 1, numUsers: 1 });
        assert.deepEqual([(await a!.users('room')).has('ann'), (await a!.users('room')).has('bob')], [false, true]);
        await advance(1_100);
        assert.equal((await a!.get('room')).size, 0);
        assert.deepEqual(await a!.stats('room'), { numClients: 0, numUsers: 0 });
        assert.equal((await a!.users('room')).size, 0);
      });
    });
  });
}
