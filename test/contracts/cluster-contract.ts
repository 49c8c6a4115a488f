/**
 * The Cluster contract (see src/cluster/cluster.ts). `makeNodes` returns
 * clusters that act as separate nodes of one deployment (at most
 * `maxNodes`), and `kill(i)` makes node i fall silent as a crash does (no
 * goodbye). Implementations of one process run the single-node cases only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Cluster, ClusterMember } from '../../src/cluster/cluster.js';
import type { NodeStats } from '../../src/node/node.js';
import { waitFor } from '../helpers/wait.js';

export interface ClusterNodes {
  clusters: Cluster[];
  kill(index: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function member(id: string, clients = 0): ClusterMember {
  const stats: NodeStats = { clients, users: clients, channels: 0, subscriptions: 0, uptimeSeconds: 1 };
  return { id, name: `node-${id}`, version: '1.0.0', stats: () => stats };
}

export function runClusterContract(name: string, maxNodes: number, makeNodes: (count: number) => Promise<ClusterNodes>): void {
  describe(`Cluster contract: ${name}`, () => {
    async function withNodes(count: number, body: (nodes: ClusterNodes) => Promise<void>) {
      const nodes = await makeNodes(count);
      try {
        await Promise.all(nodes.clusters.map((cluster, i) => cluster.start(member(`n${i}`, i + 1))));
        await body(nodes);
      } finally {
        await Promise.all(nodes.clusters.map((cluster) => cluster.close()));
        await nodes.cleanup();
      }
    }

    test('lists itself with its stats and answers its own surveys; a question nobody answers is partial', async () => {
      await withNodes(1, async ({ clusters: [a] }) => {
        assert.deepEqual(a!.nodes(), [{ id: 'n0', name: 'node-n0', version: '1.0.0', stats: member('n0', 1).stats() }]);
        a!.answer('double', (payload) => (payload as number) * 2);
        assert.deepEqual(await a!.survey('double', 21), { answers: [{ node: 'n0', answer: 42 }], partial: false, missing: [] });
        assert.deepEqual(await a!.survey('unknown'), { answers: [], partial: true, missing: ['n0'] });
        a!.answer('fails', () => Promise.reject(new Error('no')));
        assert.equal((await a!.survey('fails')).partial, true);
        await a!.close();
        await a!.close();
      });
    });

    test('asks itself one question by its own id; an id nobody has is an unknown node', async () => {
      await withNodes(1, async ({ clusters: [a] }) => {
        a!.answer('double', (payload) => (payload as number) * 2);
        assert.deepEqual(await a!.ask('n0', 'double', 21), { ok: true, answer: 42 });
        assert.deepEqual(await a!.ask('n9', 'double', 21), { ok: false, reason: 'unknown-node' });
        assert.deepEqual(await a!.ask('n0', 'unknown'), { ok: false, reason: 'no-answer' });
        a!.answer('fails', () => Promise.reject(new Error('no')));
        assert.deepEqual(await a!.ask('n0', 'fails'), { ok: false, reason: 'no-answer' });
      });
    });

    if (maxNodes < 2) return;

    test('a question asked of one node is answered by that node alone', async () => {
      await withNodes(3, async ({ clusters }) => {
        await waitFor(() => clusters.every((c) => c.nodes().length === 3), { message: 'every node to see the others' });
        const asked = [0, 0, 0];
        clusters.forEach((c, i) => c.answer('who', (payload) => {
          asked[i]!++;
          return { me: i, asked: payload };
        }));
        assert.deepEqual(await clusters[0]!.ask('n2', 'who', 'x'), { ok: true, answer: { me: 2, asked: 'x' } });
        assert.deepEqual(asked, [0, 0, 1]);
        assert.deepEqual(await clusters[0]!.ask('n7', 'who', 'x'), { ok: false, reason: 'unknown-node' });
        clusters[1]!.answer('who', () => {
          throw new Error('cannot say');
        });
        assert.deepEqual(await clusters[2]!.ask('n1', 'who', 'y'), { ok: false, reason: 'no-answer' });
      });
    });

    test('every node is listed with its last stats, and a survey gathers every answer', async () => {
      await withNodes(3, async ({ clusters }) => {
        await waitFor(() => clusters.every((c) => c.nodes().length === 3), { message: 'every node to see the others' });
        const seen = clusters[0]!.nodes();
        assert.equal(seen[0]!.id, 'n0', 'this node first');
        assert.deepEqual(seen.map((n) => [n.id, n.stats.clients]).sort(), [['n0', 1], ['n1', 2], ['n2', 3]]);
        clusters.forEach((c, i) => c.answer('who', (payload) => ({ me: i, asked: payload })));
        const result = await clusters[1]!.survey('who', 'x');
        assert.equal(result.partial, false);
        assert.deepEqual(result.answers.map((a) => [a.node, a.answer]).sort(), [
          ['n0', { me: 0, asked: 'x' }], ['n1', { me: 1, asked: 'x' }], ['n2', { me: 2, asked: 'x' }],
        ]);
        clusters[2]!.answer('who', () => {
          throw new Error('cannot say');
        });
        const failed = await clusters[0]!.survey('who', 'y');
        assert.deepEqual([failed.partial, failed.missing, failed.answers.length], [true, ['n2'], 2]);
      });
    });

    test('a graceful close drops the node at once, without an eviction', async () => {
      await withNodes(2, async ({ clusters: [a, b] }) => {
        await waitFor(() => a!.nodes().length === 2 && b!.nodes().length === 2, { message: 'both to see each other' });
        const evicted: string[] = [];
        a!.onEvicted((id) => evicted.push(id));
        await b!.close();
        await waitFor(() => a!.nodes().length === 1, { message: 'n1 to be dropped' });
        a!.answer('q', () => 'a');
        assert.deepEqual(await a!.survey('q'), { answers: [{ node: 'n0', answer: 'a' }], partial: false, missing: [] });
        assert.deepEqual(evicted, []);
      });
    });

    test('a node that falls silent makes surveys partial at once, then is evicted with an event', async () => {
      await withNodes(2, async ({ clusters: [a, b], kill }) => {
        await waitFor(() => a!.nodes().length === 2, { message: 'n0 to see n1' });
        a!.answer('q', () => 'a');
        b!.answer('q', () => 'b');
        assert.equal((await a!.survey('q')).answers.length, 2);
        const evicted: string[] = [];
        a!.onEvicted((id) => evicted.push(id));
        await kill(1);
        const result = await a!.survey('q');
        assert.deepEqual(result, { answers: [{ node: 'n0', answer: 'a' }], partial: true, missing: ['n1'] });
        assert.equal((await a!.ask('n1', 'q')).ok, false, 'a silent node does not answer (listed or already evicted)');
        await waitFor(() => evicted.length > 0, { timeoutMs: 10_000, message: 'n1 to be evicted' });
        assert.deepEqual(evicted, ['n1']);
        assert.deepEqual(a!.nodes().map((n) => n.id), ['n0']);
      });
    });
  });
}
