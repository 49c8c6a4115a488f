/**
 * Conformance with the real `centrifuge` SDK: fossil delta compression of
 * publications (`delta: 'fossil'` subscription option), in every SDK
 * flavour. The SDK applies the patches itself, so correct data proves the
 * patches and their bases; its `deltaStats()` tells patches from whole payloads.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { connectClient, disconnectAll, eventsOf, offsetsOf, range, subscribe, type TestSubscription } from './helpers/sdk.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const SERVER_OPTIONS = {
  file: {
    namespaces: {
      // Long enough that the racing test's cut client recovers whatever it missed.
      deltas: { historySize: 1000, recover: true, allowedDeltaTypes: ['fossil'] },
      plain: { historySize: 100, recover: true },
    },
  },
};

/** A large document of which each version changes a little: what delta compression is for. */
function doc(version: number): Record<string, unknown> {
  const rows = Array.from({ length: 60 }, (_, i) => ({
    id: i,
    name: `row ${i} — ünïcödé`,
    value: i === version % 60 ? version * 7 : i * 3,
    note: 'a line of text that stays the same from one version to the next',
  }));
  return { version, title: 'Quarterly report', rows };
}

describe('sdk: delta compression', () => {
  let ts: TestServer;
  /** Between the recovering client and the server, to cut its connection. */
  let proxy: TcpProxy;
  let token: string;
  /** Every test starts with no client and an open network. */
  const clearUp = () => {
    disconnectAll();
    proxy?.unblock();
  };

  before(async () => {
    [ts, token] = await Promise.all([startTestServer(SERVER_OPTIONS), mintToken({ sub: 'alice' })]);
    proxy = await TcpProxy.start(ts.server.port);
  });
  afterEach(clearUp);
  after(async () => {
    clearUp();
    await Promise.all([proxy?.close(), ts?.stop()]);
  });

  async function publish(name: string, versions: readonly number[]): Promise<void> {
    const channel = ts.server.node.channels.resolve(name);
    for (const version of versions) await ts.server.node.publish(channel, { data: JSON.stringify(doc(version)) });
  }

  function received(made: TestSubscription, count: number, label: string): Promise<unknown> {
    return waitFor(() => made.publications.length >= count || undefined, { message: `${label}: ${count} publications` });
  }

  /** A new client subscribed with `delta: 'fossil'`, once it received the given versions, checking their data. */
  async function subscribedThrough(name: string, versions: readonly number[]): Promise<TestSubscription> {
    const a = await connectClient(ts.wsUrl, { token });
    const sub = await subscribe(a.client, name, { delta: 'fossil' });
    await publish(name, versions);
    await received(sub, versions.length, name);
    assert.deepEqual(sub.publications.map((p) => p.data), versions.map(doc));
    return sub;
  }

  /** Asserts the SDK's count of whole payloads and of patches it applied. */
  function assertPayloads(made: TestSubscription, whole: number, patches: number, label: string): void {
    const stats = made.sub.deltaStats();
    assert.deepEqual({ whole: stats.numFullPayloads, patches: stats.numDeltaPayloads }, { whole, patches }, label);
  }

  test('similar large publications arrive with their data, as patches after the first, in fewer bytes', async () => {
    const sub = await subscribedThrough('deltas:stream', range(1, 8));
    assert.deepEqual(offsetsOf(sub.publications), range(1, 8));
    assertPayloads(sub, 1, 7, 'the first publication has no base: whole');
    const stats = sub.sub.deltaStats();
    assert.ok(stats.bytesReceived * 3 < stats.bytesDecoded, `patches are much smaller: ${stats.bytesReceived} of ${stats.bytesDecoded} bytes`);
  });

  test('a subscriber joining mid-stream gets a whole publication first, then patches', async () => {
    const first = await subscribedThrough('deltas:mid', range(1, 3));

    const b = await connectClient(ts.wsUrl, { token });
    const late = await subscribe(b.client, 'deltas:mid', { delta: 'fossil' });
    await publish('deltas:mid', range(4, 6));
    await received(late, 3, 'late subscriber');
    await received(first, 6, 'first subscriber');

    assert.deepEqual(late.publications.map((p) => p.data), range(4, 6).map(doc));
    assert.deepEqual(first.publications.map((p) => p.data), range(1, 6).map(doc));
    assertPayloads(late, 1, 2, 'whole at first, though the others get a patch of it');
    assertPayloads(first, 1, 5, 'the first subscriber');
  });

  test('recovery after a cut connection: the missed publications come whole then as patches, and live patches follow', async () => {
    const a = await connectClient(proxy.wsUrl, { token });
    const sub = await subscribe(a.client, 'deltas:recover', { delta: 'fossil' });
    assert.equal(sub.subscribed.recoverable, true);
    // A second subscriber stays on the channel, so the node keeps its previous publication throughout.
    const w = await connectClient(ts.wsUrl, { token });
    const watcher = await subscribe(w.client, 'deltas:recover', { delta: 'fossil' });
    await publish('deltas:recover', range(1, 2));
    await received(sub, 2, 'subscriber before the cut');

    proxy.block();
    proxy.cut();
    await waitFor(() => a.client.state === 'connecting' || undefined, { message: 'the client notices the cut' });
    await publish('deltas:recover', range(3, 7));
    proxy.unblock();
    const [, resubscribed] = await eventsOf(sub, 'subscribed', 2, 10_000);
    assert.equal(resubscribed.recovered, true);
    await received(sub, 7, 'subscriber after recovery');
    await publish('deltas:recover', [8]);
    await received(sub, 8, 'subscriber, live again');
    await received(watcher, 8, 'watcher');

    assert.deepEqual(offsetsOf(sub.publications), range(1, 8), 'every publication once, in order');
    assert.deepEqual(sub.publications.map((p) => p.data), range(1, 8).map(doc));
    // Whole: the first live one, and the first recovered one. Patches: 2, the recovered 4–7, and the live 8 (from the last recovered).
    assertPayloads(sub, 2, 6, 'the recovering subscriber');
  });

  test('publications racing subscribes and cut connections: every payload is right, every publication once', async () => {
    const TOTAL = 300;
    const a = await connectClient(proxy.wsUrl, { token });
    const recovering = await subscribe(a.client, 'deltas:race', { delta: 'fossil' });
    const channel = ts.server.node.channels.resolve('deltas:race');
    const joining: Promise<TestSubscription>[] = [];
    const pending: Promise<unknown>[] = [];
    for (let version = 1; version <= TOTAL; version++) {
      pending.push(ts.server.node.publish(channel, { data: JSON.stringify(doc(version)) }));
      // Paced so that subscribes and reconnects land in the middle of the stream.
      if (version % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      if (version % 70 === 0) proxy.cut();
      if (version % 60 === 30) joining.push(connectClient(ts.wsUrl, { token }).then((b) => subscribe(b.client, 'deltas:race', { delta: 'fossil' })));
    }
    await Promise.all(pending);
    const late = await Promise.all(joining);
    for (const made of [recovering, ...late]) {
      // A late subscribe may end after the last publication: it then has none to receive.
      const from = (made.of('subscribed')[0]?.streamPosition?.offset ?? 0) + 1;
      if (from <= TOTAL) {
        await waitFor(() => made.publications.at(-1)?.offset === TOTAL || undefined, { timeoutMs: 15_000, message: `offset ${TOTAL} reached` });
      }
      assert.deepEqual(offsetsOf(made.publications), range(from, TOTAL), 'every publication once, in order');
      for (const publication of made.publications) assert.deepEqual(publication.data, doc(publication.offset ?? 0));
    }
    assert.ok(recovering.of('subscribed').slice(1).every((ctx) => ctx.recovered === true), 'every resubscribe recovered');
    assert.ok(a.of('connected').length >= 2, 'the connection was really cut and came back');
    assert.ok(recovering.sub.deltaStats().numDeltaPayloads > TOTAL / 2, 'most came as patches');
  });

  test('a namespace that allows no delta subscribes without it: plain data, no delta statistics', async () => {
    const sub = await subscribedThrough('plain:stream', range(1, 3));
    assert.equal(sub.sub.deltaStats().numPublications, 0, 'not negotiated: the SDK decodes nothing');
  });
});
