/**
 * Clients back from a long absence, with the real `centrifuge` SDK behind a
 * TCP proxy that cuts the network (no clean disconnect): whatever was missed
 * meanwhile, the client ends subscribed — with exactly the missed
 * publications when they fit the recovery bound, or told `recovered: false`
 * (error 112 when it asked for that with `getState`) when they do not — and
 * is never closed as a slow reader for the size of its recovery.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiPublishMany, apiResult } from './helpers/api.js';
import { useProxiedServer } from './helpers/proxied-server.js';
import { SlowRecoveryStore } from './helpers/slow-store.js';
import { mintToken, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import {
  connectClient,
  eventsOf,
  makeSubscription,
  offsetsOf,
  publicationsAfterSubscribed,
  range,
  subscribeExisting,
  type TestClient,
  type TestSubscription,
} from './helpers/sdk.js';
import type { TcpProxy } from './helpers/tcp-proxy.js';

/** ~1.2 KB and ~32 KB payloads, numbered. */
const small = (n: number) => ({ n, body: 's'.repeat(1200) });
const large = (n: number) => ({ n, body: 'L'.repeat(32 * 1024) });

/** Fails when the client was ever closed as slow (by its events and by the server's log). */
function assertNeverSlow(ts: TestServer, client: TestClient): void {
  const codes = [...client.of('connecting'), ...client.of('disconnected')].map((ctx) => ctx.code);
  assert.ok(!codes.includes(3008), `closed as slow: codes ${codes.join(',')}`);
  assert.ok(!ts.logs.some((line) => line.includes('slow client dropped')), 'the server dropped a slow client');
}

/**
 * Connects through the proxy and subscribes, then cuts the network: the
 * proxy drops the connection and refuses new ones until unblocked.
 * Resolves once the client noticed.
 */
async function subscribeThenCut(
  proxy: TcpProxy,
  token: string,
  channel: string,
  clientOptions: Parameters<typeof connectClient>[1] = {},
): Promise<{ client: TestClient; room: TestSubscription }> {
  const client = await connectClient(proxy.wsUrl, { token, ...clientOptions });
  const room = makeSubscription(client.client, channel);
  await subscribeExisting(room);
  proxy.block();
  proxy.cut();
  await waitFor(() => client.client.state === 'connecting', { message: 'the client notices the cut' });
  return { client, room };
}

describe('sdk: long absences', () => {
  const server = useProxiedServer();
  let ts: TestServer;
  let proxy: TcpProxy;
  let token: string;

  before(async () => {
    ({ ts, proxy } = server);
    token = await mintToken({ sub: 'alice' });
  });

  /**
   * Subscribes through the proxy, then cuts the network while `away` runs,
   * restores it, and resolves with the context of the resubscribe.
   */
  async function absentWhile(
    channel: string,
    away: () => Promise<void>,
    clientOptions: Parameters<typeof connectClient>[1] = {},
  ): Promise<{ client: TestClient; room: TestSubscription; back: any; retries: number }> {
    const { client, room } = await subscribeThenCut(proxy, token, channel, clientOptions);
    const refusedBefore = proxy.refused;
    await away();
    await waitFor(() => proxy.refused > refusedBefore, { timeoutMs: 30_000, message: 'the client retries while the network is down' });
    proxy.unblock();
    const retries = proxy.refused - refusedBefore;
    const [, back] = await eventsOf(room, 'subscribed', 2, 60_000);
    return { client, room, back, retries };
  }

  test('1,000 missed publications of ~1.2 KB are recovered exactly, in order, without a slow close', async () => {
    const channel = 'room:absence-small';
    let results: { offset: number }[] = [];
    const { client, room, back } = await absentWhile(channel, async () => {
      results = await apiPublishMany(ts, channel, 1000, small);
    });
    assert.equal(back.wasRecovering, true);
    assert.equal(back.recovered, true, 'everything missed fits the recovery bound');
    await waitFor(() => room.publications.length >= 1000, { timeoutMs: 30_000, message: 'the missed publications arrive' });
    const recovered = publicationsAfterSubscribed(room, 2);
    assert.deepEqual(offsetsOf(recovered), range(1, 1000), 'exactly the missed ones, in order, no duplicate');
    const nByOffset = new Map(results.map((r, i) => [r.offset, i + 1]));
    assert.deepEqual(recovered.map((p) => p.data.n), recovered.map((p) => nByOffset.get(p.offset)), 'each with its own data');
    assert.equal(recovered[0].data.body.length, 1200);

    // Live delivery goes on after the recovered ones.
    await apiResult(ts, 'publish', { channel, data: small(1001) });
    await waitFor(() => room.publications.length === 1001, { message: 'a live publication after recovery' });
    assert.deepEqual(offsetsOf(room.publications), range(1, 1001));
    assert.equal(client.of('connected').length, 2, 'one reconnect, which succeeded');
    assertNeverSlow(ts, client);
  });

  test('150 missed publications of 32 KB (past the 4 MiB recovery bound): recovered:false and none, still subscribed', async () => {
    const channel = 'room:absence-large';
    const { client, room, back } = await absentWhile(channel, async () => {
      await apiPublishMany(ts, channel, 150, large);
    });
    assert.equal(back.wasRecovering, true);
    assert.equal(back.recovered, false, '4.8 MB missed is past recoveryMaxBytes');
    assert.equal(back.streamPosition.offset, 150, 'the reply names the current top');
    assert.equal(room.sub.state, 'subscribed');
    assert.equal(room.publications.length, 0, 'never a partial list');

    await apiResult(ts, 'publish', { channel, data: large(151) });
    await waitFor(() => room.publications.length === 1, { message: 'live delivery after an unrecovered resubscribe' });
    assert.equal(room.publications[0]?.offset, 151);
    assertNeverSlow(ts, client);
  });

  test('rejectUnrecovered (getState): error 112, not subscribed; the SDK calls getState, then subscribes from there', async () => {
    const channel = 'room:absence-state';
    const client = await connectClient(proxy.wsUrl, { token });
    const positions: { offset: number; epoch: string }[] = [];
    // The app's source of truth: the stream's current top, read through the server API.
    const getState = async () => {
      const top = await apiResult<{ offset: number; epoch: string }>(ts, 'history', { channel, limit: 0 });
      positions.push(top);
      return { offset: top.offset, epoch: top.epoch };
    };
    await apiPublishMany(ts, channel, 5, small);
    const room = makeSubscription(client.client, channel, { getState });
    const first = await subscribeExisting(room);
    assert.equal(positions.length, 1, 'getState loads the state before the first subscribe');
    assert.equal(first.streamPosition?.offset, 5);

    proxy.block();
    proxy.cut();
    await waitFor(() => client.client.state === 'connecting', { message: 'the client notices the cut' });
    await apiPublishMany(ts, channel, 150, large);
    proxy.unblock();

    const [, back] = await eventsOf(room, 'subscribed', 2, 60_000);
    assert.equal(positions.length, 2, 'the SDK reloaded the state after the refused recovery');
    assert.equal(positions[1]?.offset, 155);
    assert.equal(back.streamPosition?.offset, 155, 'subscribed from the reloaded position');
    assert.ok(
      ts.logs.some((line) => line.includes('"code":112') && line.includes('command refused')),
      'the resubscribe was answered with error 112',
    );
    assert.equal(room.of('subscribed').length, 2, 'not subscribed by the refused resubscribe');
    assert.equal(room.publications.length, 0, 'the missed publications come from the app state, not the subscription');
    await apiResult(ts, 'publish', { channel, data: small(156) });
    await waitFor(() => room.publications.length === 1, { message: 'live delivery after the reload' });
    assert.equal(room.publications[0]?.offset, 156);
    assertNeverSlow(ts, client);
  });

  test('an outage of a minute with messages meanwhile: the SDK backoff brings it back and it recovers them all', { timeout: 180_000 }, async () => {
    const channel = 'room:absence-minute';
    const OUTAGE_MS = 60_000;
    let published = 0;
    // The SDK's own backoff (not the suite's fast one), capped so the test does not wait the full 20 s default.
    const { client, room, back, retries } = await absentWhile(
      channel,
      async () => {
        const cutAt = Date.now();
        // A publication every 200 ms for the whole outage (pacing the scenario, not waiting for an event).
        while (Date.now() - cutAt < OUTAGE_MS) {
          published++;
          await apiResult(ts, 'publish', { channel, data: small(published) });
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
      { minReconnectDelay: 500, maxReconnectDelay: 5000 },
    );
    assert.ok(retries >= 5, `the client kept retrying during the outage (${retries} attempts refused)`);
    assert.equal(back.recovered, true);
    await waitFor(() => room.publications.length >= published, { timeoutMs: 10_000, message: 'every publication of the outage' });
    assert.deepEqual(offsetsOf(room.publications), range(1, published));
    assert.deepEqual(room.publications.map((p) => p.data.n), range(1, published));
    assertNeverSlow(ts, client);
  });
});

describe('sdk: a recovery much larger than the queue bound', () => {
  // 8 MiB may be recovered: 150 × 32 KB (4.8 MB) fits, against a 1 MiB queue bound.
  const server = useProxiedServer({ flags: ['--recovery-max-bytes', '8388608'] });

  test('150 missed publications of 32 KB are recovered in one reply of ~5 MB, exactly, without a slow close', async () => {
    const { ts, proxy } = server;
    const channel = 'room:absence-large-bound';
    const { client, room } = await subscribeThenCut(proxy, await mintToken({ sub: 'bob' }), channel);
    await apiPublishMany(ts, channel, 150, large);
    proxy.unblock();
    const [, back] = await eventsOf(room, 'subscribed', 2, 60_000);
    assert.equal(back.recovered, true);
    await waitFor(() => room.publications.length >= 150, { timeoutMs: 30_000, message: 'the recovered publications' });
    assert.deepEqual(offsetsOf(room.publications), range(1, 150));
    assert.ok(room.publications.every((p) => p.data.body.length === 32 * 1024));
    assertNeverSlow(ts, client);
  });
});

describe('sdk: publications pile up while a recovery is read', () => {
  const store = new SlowRecoveryStore();
  const server = useProxiedServer({ parts: { store } });

  test('past the hold bound the client is told to resubscribe (2500), recovers the rest, and keeps its connection', async () => {
    const { ts, proxy } = server;
    const channel = 'room:absence-held';
    const { client, room } = await subscribeThenCut(proxy, await mintToken({ sub: 'carol' }), channel);
    await apiPublishMany(ts, channel, 100, small);
    const held = store.holdNextRecovery();
    proxy.unblock();
    const release = await held;
    // 20 × 32 KB while the recovery is read: more than the subscription may hold (half the 1 MiB queue bound).
    await apiPublishMany(ts, channel, 20, (n) => large(100 + n));
    release();

    const [, recovered, resubscribed] = await eventsOf(room, 'subscribed', 3, 30_000);
    assert.equal(recovered.recovered, true);
    assert.equal(recovered.streamPosition.offset, 100, 'the reply as read, before the 20');
    assert.ok(room.of('subscribing').some((ctx) => ctx.code === 2500), 'the server asked for a resubscribe');
    assert.equal(resubscribed.recovered, true, 'the resubscribe recovers what was dropped from the hold');
    await waitFor(() => room.publications.length >= 120, { timeoutMs: 30_000, message: 'all 120 publications' });
    assert.deepEqual(offsetsOf(room.publications), range(1, 120), 'every one exactly once, in order');
    assert.deepEqual(room.publications.map((p) => p.data.n).sort((a, b) => a - b), range(1, 120), 'each payload once');
    assert.equal(client.of('connected').length, 2, 'the connection was kept (one reconnect, after the cut)');
    assertNeverSlow(ts, client);
  });

  test('after a second overflow in a row the next resubscribe is answered recovered:false instead of a third long read', async () => {
    const { ts, proxy } = server;
    const channel = 'room:absence-held-twice';
    const { client, room } = await subscribeThenCut(proxy, await mintToken({ sub: 'dave' }), channel);
    await apiPublishMany(ts, channel, 100, small);
    const firstHeld = store.holdNextRecovery();
    proxy.unblock();
    const releaseFirst = await firstHeld;
    const secondHeld = store.holdNextRecovery();
    await apiPublishMany(ts, channel, 20, (n) => large(100 + n));
    releaseFirst();
    // The resubscribe after the first 2500 is read slowly too, and overflows again.
    const releaseSecond = await secondHeld;
    await apiPublishMany(ts, channel, 20, (n) => large(120 + n));
    releaseSecond();

    const [, first, second, third] = await eventsOf(room, 'subscribed', 4, 30_000);
    assert.equal(first.recovered, true);
    assert.equal(second.recovered, true, 'the first resubscribe still recovers');
    assert.equal(room.of('subscribing').filter((ctx) => ctx.code === 2500).length, 2, 'two resubscribes asked for');
    assert.equal(third.wasRecovering, true);
    assert.equal(third.recovered, false, 'no third recovery read: the client reloads its state');
    assert.equal(third.streamPosition.offset, 140, 'from the current top');
    await apiPublishMany(ts, channel, 1, (n) => small(140 + n));
    await waitFor(() => room.publications.some((p) => p.offset === 141), { message: 'live again' });
    assert.equal(client.of('connected').length, 2, 'the connection was kept (one reconnect, after the cut)');
    assertNeverSlow(ts, client);
  });
});
