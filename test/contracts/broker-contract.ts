/**
 * The Broker contract (see src/broker/broker.ts). Every implementation runs
 * this suite unchanged; `makeNodes` returns brokers that act as separate
 * nodes of one deployment.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Broker, BrokerHandler } from '../../src/broker/broker.js';
import type { ClientInfo, Publication } from '../../src/protocol/types.js';
import { waitFor } from '../helpers/wait.js';

interface Recorder extends BrokerHandler {
  publications: { channel: string; publication: Publication }[];
  joins: { channel: string; info: ClientInfo }[];
  leaves: { channel: string; info: ClientInfo }[];
  resyncs: number;
}

function recorder(): Recorder {
  const r: Recorder = {
    publications: [],
    joins: [],
    leaves: [],
    resyncs: 0,
    onPublication: (channel, publication) => r.publications.push({ channel, publication }),
    onJoin: (channel, info) => r.joins.push({ channel, info }),
    onLeave: (channel, info) => r.leaves.push({ channel, info }),
    onResync: () => r.resyncs++,
  };
  return r;
}

export function runBrokerContract(
  name: string,
  makeNodes: (count: number) => Promise<{ brokers: Broker[]; cleanup: () => Promise<void> }>,
): void {
  describe(`Broker contract: ${name}`, () => {
    async function withNodes(count: number, body: (brokers: Broker[], recorders: Recorder[]) => Promise<void>) {
      const { brokers, cleanup } = await makeNodes(count);
      const recorders = brokers.map((broker) => {
        const r = recorder();
        broker.setHandler(r);
        return r;
      });
      try {
        await body(brokers, recorders);
      } finally {
        await Promise.all(brokers.map((broker) => broker.close()));
        await cleanup();
      }
    }

    test('delivers to every subscribed node, including the publisher, and to no other', async () => {
      await withNodes(3, async ([a, b, c], [ra, rb, rc]) => {
        await a!.subscribe('ch');
        await b!.subscribe('ch');
        await c!.subscribe('other');
        await a!.publish('ch', { data: '{"n":1}', offset: 1, epoch: 'e' });
        await waitFor(() => ra!.publications.length === 1 && rb!.publications.length === 1);
        assert.deepEqual(rb!.publications[0], { channel: 'ch', publication: { data: '{"n":1}', offset: 1, epoch: 'e' } });
        assert.equal(rc!.publications.length, 0);
        // Nothing was lost, so no node is asked to catch up from the store.
        assert.deepEqual([ra!, rb!, rc!].map((r) => r.resyncs), [0, 0, 0]);
      });
    });

    test('keeps per-channel order and delivers each publication once', async () => {
      await withNodes(2, async ([a, b], [, rb]) => {
        await b!.subscribe('ordered');
        for (let i = 1; i <= 500; i++) await a!.publish('ordered', { data: String(i), offset: i, epoch: 'e' });
        await waitFor(() => rb!.publications.length >= 500);
        assert.deepEqual(rb!.publications.map((p) => p.publication.offset), Array.from({ length: 500 }, (_, i) => i + 1));
      });
    });

    test('stops delivering after unsubscribe; subscribe and unsubscribe are idempotent', async () => {
      await withNodes(2, async ([a, b], [, rb]) => {
        await b!.subscribe('x');
        await b!.subscribe('x');
        await a!.publish('x', { data: '1' });
        await waitFor(() => rb!.publications.length === 1);
        await b!.unsubscribe('x');
        await b!.unsubscribe('x');
        await a!.publish('x', { data: '2' });
        // A marker on another channel proves the broker has moved past the unwanted delivery.
        await b!.subscribe('marker');
        await a!.publish('marker', { data: '"m"' });
        await waitFor(() => rb!.publications.some((p) => p.channel === 'marker'));
        assert.deepEqual(rb!.publications.filter((p) => p.channel === 'x').map((p) => p.publication.data), ['1']);
      });
    });

    test('carries join and leave events with the client info', async () => {
      await withNodes(2, async ([a, b], [, rb]) => {
        await b!.subscribe('room');
        const info: ClientInfo = { user: 'u1', client: 'c1', conn_info: { name: 'Ann' } };
        await a!.publishJoin('room', info);
        await a!.publishLeave('room', info);
        await waitFor(() => rb!.leaves.length === 1);
        assert.deepEqual(rb!.joins, [{ channel: 'room', info }]);
        assert.deepEqual(rb!.leaves, [{ channel: 'room', info }]);
      });
    });

    test('rejects use after close', async () => {
      await withNodes(1, async ([a]) => {
        await a!.close();
        await a!.close();
        await assert.rejects(a!.publish('x', { data: '1' }));
      });
    });
  });
}
