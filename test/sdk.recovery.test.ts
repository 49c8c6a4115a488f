/**
 * Conformance with the real `centrifuge` SDK: recovery of missed
 * publications after a broken connection and after a server restart, the
 * "never partial" rule when too much was missed, and exact delivery (no
 * loss, no duplicates) for publications racing a subscribe.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubscriptionOptions } from 'centrifuge';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { nextEvent, waitFor } from './helpers/wait.js';
import {
  connectClient,
  disconnectAll,
  eventsOf,
  makeClient,
  makeSubscription,
  offsetsOf,
  publicationsAfterSubscribed,
  range,
  subscribe,
  subscribeExisting,
  type TestSubscription,
} from './helpers/sdk.js';
import { flavour } from './helpers/sdk-flavour.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const SERVER_OPTIONS = {
  // The race test publishes hundreds of messages from one connection as fast as it can.
  flags: ['--command-rate-limit', '100000', '--command-burst', '100000'],
  file: { namespaces: { small: { historySize: 5, recover: true, presence: false, joinLeave: false } } },
};

/** A short account of what a subscriber received, for failure messages. */
function describeReceived(made: TestSubscription, ctx: { streamPosition?: { offset: number } | undefined; recovered?: boolean } | undefined, fromStart: boolean): string {
  const offsets = offsetsOf(made.publications);
  const problems: string[] = [];
  for (let i = 1; i < offsets.length; i++) {
    const previous = offsets[i - 1] as number;
    const current = offsets[i] as number;
    if (current !== previous + 1) problems.push(`${previous}->${current}`);
  }
  return `  ${fromStart ? 'from 0' : 'fresh '} state=${made.sub.state} subscribedAt=${ctx?.streamPosition?.offset} recovered=${ctx?.recovered} ` +
    `received=${offsets.length} first=${offsets[0]} last=${offsets.at(-1)} breaks=[${problems.slice(0, 10).join(', ')}]`;
}

function assertStrictlyConsecutive(offsets: number[], label: string): void {
  for (let i = 1; i < offsets.length; i++) {
    const previous = offsets[i - 1] as number;
    const current = offsets[i] as number;
    assert.ok(current !== previous, `${label}: duplicate offset ${current} at index ${i}`);
    assert.ok(current > previous, `${label}: offset went back from ${previous} to ${current} at index ${i}`);
    assert.equal(current, previous + 1, `${label}: gap between ${previous} and ${current} at index ${i}`);
  }
}

describe('sdk: recovery', () => {
  let ts: TestServer;
  let proxy: TcpProxy;
  let aliceToken: string;
  let bobToken: string;

  before(async () => {
    ts = await startTestServer(SERVER_OPTIONS);
    proxy = await TcpProxy.start(ts.server.port);
    aliceToken = await mintToken({ sub: 'alice' });
    bobToken = await mintToken({ sub: 'bob' });
  });
  afterEach(() => {
    disconnectAll();
    proxy.unblock();
  });
  after(async () => {
    disconnectAll();
    await proxy?.close();
    await ts?.stop();
  });

  test('(a) forced disconnect: missed publications are recovered exactly once, in order, then live ones', async () => {
    const channel = 'room:r';
    const a = await connectClient(proxy.wsUrl, { token: aliceToken });
    const b = await connectClient(ts.wsUrl, { token: bobToken });
    const room = await subscribe(a.client, channel);
    assert.equal(room.subscribed.recoverable, true);

    for (let n = 1; n <= 3; n++) await b.client.publish(channel, { n });
    await waitFor(() => room.publications.length >= 3, { message: 'A receives the first 3 live' });

    // The network fails: A's connection is cut and cannot come back for now.
    proxy.block();
    proxy.cut();
    await waitFor(() => a.client.state === 'connecting', { message: 'A notices the broken connection' });
    assert.equal(room.sub.state, 'subscribing');

    const MISSED = 10;
    for (let n = 4; n < 4 + MISSED; n++) await b.client.publish(channel, { n });
    // A really tried (and failed) to come back while away.
    await waitFor(() => proxy.refused > 0, { message: 'A retries while the network is down' });
    assert.equal(room.publications.length, 3, 'nothing can arrive while A is away');

    proxy.unblock();
    const [, resubscribed] = await eventsOf(room, 'subscribed', 2, 10_000);
    assert.equal(resubscribed.wasRecovering, true, 'A resubscribes with recovery');
    assert.equal(resubscribed.recovered, true, 'all missed publications are available');
    assert.equal(resubscribed.hasRecoveredPublications, true);
    assert.equal(resubscribed.streamPosition?.epoch, room.subscribed.streamPosition?.epoch, 'same epoch');

    await waitFor(() => room.publications.length >= 3 + MISSED, { message: 'A receives the missed publications' });
    const recovered = publicationsAfterSubscribed(room, 2);
    assert.deepEqual(offsetsOf(recovered), range(4, 3 + MISSED), 'exactly the missed ones, in order');
    assert.deepEqual(recovered.map((p) => p.data.n), range(4, 3 + MISSED));

    // Live delivery resumes after the recovered ones.
    for (let n = 4 + MISSED; n < 7 + MISSED; n++) await b.client.publish(channel, { n });
    await waitFor(() => room.publications.length >= 6 + MISSED, { message: 'A receives live publications again' });
    const all = offsetsOf(room.publications);
    assert.deepEqual(all, range(1, 6 + MISSED), 'every publication once, in order');
    assert.deepEqual(room.publications.map((p) => p.data.n), range(1, 6 + MISSED));
    assert.equal(a.of('connected').length, 2, 'one reconnect');
  });

  test('(a) repeated cuts while another client keeps publishing: every publication exactly once, in order', async () => {
    const channel = 'room:r-busy';
    const TOTAL = 400;
    const a = await connectClient(proxy.wsUrl, { token: aliceToken });
    const b = await connectClient(ts.wsUrl, { token: bobToken });
    const room = await subscribe(a.client, channel);

    let cuts = 0;
    const publishing = (async () => {
      const pending: Promise<unknown>[] = [];
      for (let n = 1; n <= TOTAL; n++) {
        pending.push(b.client.publish(channel, { n }));
        if (n % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
        // Cut A's connection a few times in the middle of the stream, sometimes keeping it away for a while.
        if (n % 90 === 0) {
          cuts++;
          if (cuts % 2 === 0) proxy.block();
          proxy.cut();
          if (cuts % 2 === 0) setTimeout(() => proxy.unblock(), 40);
        }
      }
      await Promise.all(pending);
    })();
    await publishing;
    proxy.unblock();

    await waitFor(() => room.publications.at(-1)?.offset === TOTAL, {
      timeoutMs: 15_000,
      message: `A reaches offset ${TOTAL} (has ${room.publications.length}, last ${room.publications.at(-1)?.offset})`,
    });
    assert.ok(a.of('connected').length >= 2, 'A was really disconnected and came back');
    const offsets = offsetsOf(room.publications);
    assertStrictlyConsecutive(offsets, 'A');
    assert.deepEqual(offsets, range(1, TOTAL));
    for (const ctx of room.of('subscribed').slice(1)) {
      assert.equal(ctx.wasRecovering, true);
      assert.equal(ctx.recovered, true);
    }
  });

  test('(a) a server-side subscription (token channels claim) recovers through connect the same way', async () => {
    const made = makeClient(proxy.wsUrl, { token: await mintToken({ sub: 'alice', channels: ['room:r-srv'] }) });
    made.client.connect();
    await eventsOf(made, 'subscribed', 1);
    const node = ts.server.node;
    const channel = node.channels.resolve('room:r-srv');
    for (let n = 1; n <= 2; n++) await node.publish(channel, { data: JSON.stringify({ n }) });
    await eventsOf(made, 'publication', 2);

    proxy.block();
    proxy.cut();
    await waitFor(() => made.client.state === 'connecting', { message: 'A notices the broken connection' });
    for (let n = 3; n <= 5; n++) await node.publish(channel, { data: JSON.stringify({ n }) });
    proxy.unblock();

    const [, resubscribed] = await eventsOf(made, 'subscribed', 2, 10_000);
    assert.equal(resubscribed.channel, 'room:r-srv');
    assert.equal(resubscribed.wasRecovering, true);
    assert.equal(resubscribed.recovered, true);
    await node.publish(channel, { data: JSON.stringify({ n: 6 }) });
    await waitFor(() => made.of('publication').some((p) => p.offset === 6), { message: 'live publication after recovery' });
    assert.deepEqual(offsetsOf(made.of('publication')), range(1, 6));
    assert.deepEqual(made.of('publication').map((p) => p.data.n), range(1, 6));
  });

  test('(c) too many missed for the history size: recovered false and no partial list', async () => {
    const channel = 'small:x';
    const a = await connectClient(proxy.wsUrl, { token: aliceToken });
    const b = await connectClient(ts.wsUrl, { token: bobToken });
    const room = await subscribe(a.client, channel);
    assert.equal(room.subscribed.recoverable, true);

    for (let n = 1; n <= 2; n++) await b.client.publish(channel, { n });
    await waitFor(() => room.publications.length >= 2, { message: 'A receives the first 2' });

    proxy.block();
    proxy.cut();
    await waitFor(() => a.client.state === 'connecting', { message: 'A notices the broken connection' });
    // 10 missed, only the newest 5 are kept: offsets 3..7 are gone.
    for (let n = 3; n <= 12; n++) await b.client.publish(channel, { n });
    const retained = await b.client.history(channel, { limit: -1 });
    assert.deepEqual(offsetsOf(retained.publications), range(8, 12), 'history keeps the newest 5');

    proxy.unblock();
    const [, resubscribed] = await eventsOf(room, 'subscribed', 2, 10_000);
    assert.equal(resubscribed.wasRecovering, true);
    assert.equal(resubscribed.recovered, false, 'recovery cannot succeed');
    assert.equal(resubscribed.hasRecoveredPublications, false, 'no partial list');
    assert.equal(resubscribed.streamPosition?.offset, 12, 'the reply reports the current top');

    await b.client.publish(channel, { n: 13 });
    await waitFor(() => room.publications.some((p) => p.offset === 13), { message: 'A receives the next live one' });
    const afterReconnect = publicationsAfterSubscribed(room, 2);
    assert.deepEqual(offsetsOf(afterReconnect), [13], 'none of the missed ones (no partial recovery), then live');
  });

  test('(d) publications racing subscribes are neither lost nor duplicated', async () => {
    const TOTAL = 300;
    const SUBSCRIBERS = 8;
    let subscribedMidStream = 0;
    for (const round of [1, 2]) {
      const channel = `room:race-${round}`;
      const publisher = await connectClient(ts.wsUrl, { token: bobToken });
      const clients = await Promise.all(range(1, SUBSCRIBERS).map(() => connectClient(ts.wsUrl, { token: aliceToken })));
      const subs = clients.map((c, i) => {
        // Half recover from the very beginning, half start fresh.
        const options: SubscriptionOptions = i % 2 === 0 ? { since: { offset: 0, epoch: '' } } : {};
        return { made: makeSubscription(c.client, channel, options), fromStart: i % 2 === 0 };
      });
      const subscribed = subs.map(({ made }, i) =>
        // Spread over the publishing window (about 300–400 ms), with jitter.
        new Promise((resolve) => setTimeout(resolve, i * 35 + Math.random() * 30)).then(() => subscribeExisting(made, 10_000)),
      );

      const publishes: Promise<unknown>[] = [];
      for (let n = 1; n <= TOTAL; n++) {
        publishes.push(publisher.client.publish(channel, { n }));
        // Spread the burst so subscribes land at different points of it.
        if (n % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await Promise.all(publishes);
      const contexts = await Promise.all(subscribed);
      // The stream's order, as the history holds it: over WebSocket the publishes arrive in the order
      // they were sent (offset n holds n); over the emulated transports each command batch is its own
      // HTTP request, and requests sent together may arrive in another order.
      const stream = (await publisher.client.history(channel, { limit: -1 })).publications;
      assert.deepEqual([...stream.map((pub) => pub.data.n)].sort((a, b) => a - b), range(1, TOTAL), `${channel}: every publish stored once`);
      const nAt = new Map(stream.map((pub) => [pub.offset, pub.data.n]));
      if (flavour.transport === 'websocket') assert.deepEqual(stream.map((pub) => pub.data.n), offsetsOf(stream), `${channel}: stored in the order sent`);

      // What each subscriber must end up with: everything (recovering from 0), or everything after its subscribe position.
      const expected = subs.map(({ fromStart }, i) => {
        if (fromStart) return range(1, TOTAL);
        const top = contexts[i]?.streamPosition?.offset;
        assert.equal(typeof top, 'number', `${channel} subscriber ${i}: subscribed carries the position`);
        if ((top as number) > 0 && (top as number) < TOTAL) subscribedMidStream++;
        return range((top as number) + 1, TOTAL);
      });
      await waitFor(() => subs.every(({ made }, i) => made.publications.length >= expected[i]!.length), {
        timeoutMs: 10_000,
        message: `every subscriber of ${channel} receives up to offset ${TOTAL}`,
      }).catch((error: Error) => {
        throw new Error(`${error.message}\n${subs.map(({ made, fromStart }, i) => describeReceived(made, contexts[i], fromStart)).join('\n')}`);
      });

      subs.forEach(({ made, fromStart }, i) => {
        const label = `${channel} subscriber ${i} (${fromStart ? 'recovering from 0' : 'fresh'})`;
        const ctx = contexts[i]!;
        const offsets = offsetsOf(made.publications);
        assertStrictlyConsecutive(offsets, label);
        for (const pub of made.publications) assert.equal(pub.data.n, nAt.get(pub.offset), `${label}: data matches the stream at its offset`);
        if (fromStart) {
          assert.equal(ctx.wasRecovering, true, `${label}: wasRecovering`);
          assert.equal(ctx.recovered, true, `${label}: recovered`);
        }
        assert.deepEqual(offsets, expected[i], `${label}: exactly the publications after its position, once each`);
      });
    }
    assert.ok(subscribedMidStream > 0, 'no fresh subscriber landed in the middle of the burst; the race was not exercised');
  });
});

describe('sdk: recovery across a server restart', () => {
  let ts: TestServer | undefined;

  afterEach(async () => {
    disconnectAll();
    await ts?.stop();
    ts = undefined;
  });

  test('(b) the SDK reconnects by itself and recovers with the same epoch and offsets', async () => {
    ts = await startTestServer();
    const channel = 'room:rs';
    const a = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'alice' }) });
    const b = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'bob' }) });
    const room = await subscribe(a.client, channel);
    for (let n = 1; n <= 5; n++) await b.client.publish(channel, { n });
    await waitFor(() => room.publications.length >= 5, { message: 'A receives the first 5' });
    const before = await a.client.history(channel, { limit: -1 });
    assert.deepEqual(offsetsOf(before.publications), range(1, 5));

    ts = await ts.restart();

    const [, resubscribed] = await eventsOf(room, 'subscribed', 2, 15_000);
    assert.equal(a.of('connected').length, 2, 'A reconnected by itself');
    assert.equal(resubscribed.wasRecovering, true);
    assert.equal(resubscribed.recovered, true, 'recovery works across the restart');
    assert.equal(resubscribed.streamPosition?.epoch, before.epoch, 'epoch unchanged by the restart');
    assert.equal(resubscribed.streamPosition?.offset, 5, 'offset unchanged by the restart');

    // B reconnected by itself too; its publications after the restart continue the stream.
    for (let n = 6; n <= 8; n++) await b.client.publish(channel, { n });
    await waitFor(() => room.publications.length >= 8, { timeoutMs: 10_000, message: 'A receives publications made after the restart' });
    assert.deepEqual(offsetsOf(room.publications), range(1, 8), 'no loss, no duplicates across the restart');
    assert.deepEqual(room.publications.map((p) => p.data.n), range(1, 8));
    const afterRestart = await a.client.history(channel, { limit: -1 });
    assert.equal(afterRestart.epoch, before.epoch);
    assert.deepEqual(offsetsOf(afterRestart.publications), range(1, 8));
  });

  test('(b) on a graceful restart, connected clients are told to reconnect promptly (close 3001)', async () => {
    ts = await startTestServer();
    const a = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'alice' }) });
    await subscribe(a.client, 'room:prompt');
    const connecting = nextEvent<[{ code: number; reason: string }]>(a.client, 'connecting', 10_000);
    const started = Date.now();
    // Whatever happens, the new server ends up in `ts` so afterEach stops it.
    const restarting = ts.restart().then((next) => {
      ts = next;
    });
    let ctx: { code: number; reason: string };
    let elapsed: number;
    try {
      [ctx] = await connecting;
      elapsed = Date.now() - started;
    } finally {
      await restarting;
    }
    assert.equal(ctx.code, 3001, 'shutdown code');
    assert.ok(elapsed < 1000, `the client learned of the shutdown only after ${elapsed} ms`);
    await waitFor(() => a.client.state === 'connected', { timeoutMs: 10_000, message: 'A reconnects to the new server' });
  });
});
