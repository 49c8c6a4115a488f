/**
 * The PresenceLedger contract (see src/presence/presence-ledger.ts).
 * `makeNodes` returns, per node id, the presence manager and ledger that
 * node uses, all sharing one presence state; `reconnect(id)` drops that
 * node's connection to the service and lets it come back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PresenceLedger } from '../../src/presence/presence-ledger.js';
import type { PresenceManager } from '../../src/presence/presence.js';
import { waitFor } from '../helpers/wait.js';

export interface LedgerNodes {
  nodes: Map<string, { presence: PresenceManager; ledger: PresenceLedger }>;
  reconnect(id: string): Promise<void>;
  cleanup(): Promise<void>;
}

export function runPresenceLedgerContract(name: string, makeNodes: (ids: string[]) => Promise<LedgerNodes>): void {
  describe(`PresenceLedger contract: ${name}`, () => {
    async function withNodes(ids: string[], body: (made: LedgerNodes) => Promise<void>) {
      const made = await makeNodes(ids);
      try {
        await body(made);
      } finally {
        await made.cleanup();
      }
    }

    test("records each node's entries, minus those it removed and those gone from presence", async () => {
      await withNodes(['n1', 'n2'], async ({ nodes }) => {
        const [one, two] = [nodes.get('n1')!, nodes.get('n2')!];
        await one.presence.add('room:a', { user: 'ann', client: 'c1', conn_info: { name: 'Ann' } }, 60_000);
        await one.presence.add('room:b', { user: 'ann', client: 'c1' }, 60_000);
        await one.presence.add('room:a', { user: 'bob', client: 'c2' }, 60_000);
        await two.presence.add('room:a', { user: 'cid', client: 'c3' }, 60_000);
        await one.presence.remove('room:a', 'c2');
        await two.presence.remove('room:b', 'c1'); // removed through another node: no longer present, so not listed
        const entries = await two.ledger.entriesOf('n1');
        assert.deepEqual(entries, [{ channel: 'room:a', info: { user: 'ann', client: 'c1', conn_info: { name: 'Ann' } } }]);
        assert.deepEqual((await one.ledger.entriesOf('n2')).map((e) => e.info.client), ['c3']);
        // An entry added after the purge read its record (the node was alive after all) stays recorded.
        await one.presence.add('room:c', { user: 'ann', client: 'c1' }, 60_000);
        await two.ledger.forget('n1', entries);
        assert.deepEqual(await two.ledger.entriesOf('n1'), [{ channel: 'room:c', info: { user: 'ann', client: 'c1' } }]);
        assert.equal((await two.presence.get('room:a')).size, 2, 'forgetting the record removes no entry');
      });
    });

    test('exactly one claimant gets the purge of a node', async () => {
      await withNodes(['n1', 'n2', 'n3'], async ({ nodes }) => {
        const claims = await Promise.all([...nodes.values()].map(({ ledger }) => ledger.claim('dead', 30_000)));
        assert.deepEqual(claims.filter(Boolean).length, 1);
        assert.equal(await nodes.get('n1')!.ledger.claim('other', 30_000), true, 'claims are per node');
      });
    });

    test('reconnect listeners run when the connection is back, not on the first connect', async () => {
      await withNodes(['n1'], async ({ nodes, reconnect }) => {
        let calls = 0;
        nodes.get('n1')!.ledger.onReconnect(() => calls++);
        assert.equal(calls, 0);
        await reconnect('n1');
        await waitFor(() => calls === 1, { message: 'the reconnect listener' });
      });
    });
  });
}
