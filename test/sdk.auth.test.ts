/**
 * Conformance with the real `centrifuge` SDK: connection token expiry and
 * refresh, namespace permissions (dm, user), subscription tokens, and
 * Scaledrone-style regex permissions, including a hostile pattern.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import {
  connectClient,
  disconnectAll,
  eventsOf,
  makeClient,
  makeSubscription,
  rejection,
  subscribe,
  subscribeExisting,
} from './helpers/sdk.js';

/** The server's grace after a token's exp before it disconnects (session.ts EXPIRED_CLOSE_DELAY_MS). */
const SERVER_EXPIRY_GRACE_MS = 5000;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Subscribes and expects a refusal; returns the `unsubscribed` context. */
async function expectRefused(client: Parameters<typeof makeSubscription>[0], channel: string, options = {}) {
  const made = makeSubscription(client, channel, options);
  const error = (await rejection(subscribeExisting(made))) as { code: number };
  assert.equal(made.sub.state, 'unsubscribed', `${channel}: subscription must end unsubscribed`);
  const [unsubscribed] = made.of('unsubscribed');
  assert.ok(unsubscribed, `${channel}: unsubscribed event`);
  assert.equal(unsubscribed.code, error.code);
  assert.equal(made.of('subscribed').length, 0, `${channel}: must never be subscribed`);
  return unsubscribed as { code: number; reason: string };
}

describe('sdk: connection token expiry and refresh', { concurrency: true }, () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('a short-lived token is refreshed through getToken and the connection stays up past its expiry', async () => {
    let calls = 0;
    const getToken = async () => {
      calls++;
      return mintToken({ sub: 'refresher', exp: nowSeconds() + 3 });
    };
    const firstExp = nowSeconds() + 3;
    const a = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'refresher', exp: firstExp }), getToken });
    const room = await subscribe(a.client, 'room:refresh');

    // Past the first token's expiry plus the server's grace: without a working refresh the server would have closed.
    const closeDeadline = firstExp * 1000 + SERVER_EXPIRY_GRACE_MS + 1000;
    await waitFor(() => Date.now() > closeDeadline, { timeoutMs: 15_000, intervalMs: 100, message: 'past the first expiry' });

    assert.ok(calls >= 2, `getToken must have been called for refreshes (called ${calls} times)`);
    assert.equal(a.client.state, 'connected');
    assert.equal(a.of('connected').length, 1, 'never reconnected');
    assert.equal(a.of('disconnected').length, 0);
    assert.equal(a.of('connecting').length, 1, 'only the initial connecting');
    assert.equal(room.of('subscribing').length, 1, 'the subscription was never interrupted');

    const node = ts.server.node;
    await node.publish(node.channels.resolve('room:refresh'), { data: JSON.stringify({ still: 'live' }) });
    const [pub] = await eventsOf(room, 'publication', 1);
    assert.deepEqual(pub.data, { still: 'live' });
  });

  test('without a refresh the server disconnects with 3005, then the SDK gets a new token and reconnects', async () => {
    let calls = 0;
    const getToken = (): Promise<string> => {
      calls++;
      // The refresh hangs (the app's backend is unreachable); later calls work.
      if (calls === 1) return new Promise<string>(() => undefined);
      return mintToken({ sub: 'lapsed', exp: nowSeconds() + 3600 });
    };
    const expired = nowSeconds() + 3;
    const a = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'lapsed', exp: expired }), getToken });
    const room = await subscribe(a.client, 'room:lapsed');

    const [, reconnected] = await eventsOf(a, 'connected', 2, 20_000);
    assert.ok(reconnected);
    const closedBy = a.of('connecting').map((ctx) => ctx.code);
    assert.ok(closedBy.includes(3005), `expected the server to close with 3005, saw connecting codes ${JSON.stringify(closedBy)}`);
    const closedAt = a.events.find((e) => e.event === 'connecting' && e.ctx.code === 3005)!.at;
    assert.ok(closedAt >= expired * 1000, 'not closed before the token expired');
    assert.ok(calls >= 2, `getToken must be called for the reconnect (called ${calls} times)`);
    assert.equal(a.of('disconnected').length, 0, 'never terminally disconnected');

    await eventsOf(room, 'subscribed', 2, 10_000);
    const node = ts.server.node;
    await node.publish(node.channels.resolve('room:lapsed'), { data: '"after"' });
    await waitFor(() => room.publications.some((p) => p.data === 'after'), { message: 'publication after reconnect' });
  });

  test('an already expired token at connect makes the SDK call getToken (109) and connect', async () => {
    let calls = 0;
    const getToken = async () => {
      calls++;
      return mintToken({ sub: 'late', exp: nowSeconds() + 3600 });
    };
    const made = makeClient(ts.wsUrl, { token: await mintToken({ sub: 'late', exp: nowSeconds() - 10 }), getToken });
    made.client.connect();
    await eventsOf(made, 'connected', 1, 10_000);
    assert.equal(calls, 1, 'getToken called once');
    const errors = made.of('error');
    assert.ok(
      errors.some((ctx) => ctx.type === 'connect' && ctx.error?.code === 109),
      `expected a connect error 109, saw ${JSON.stringify(errors.map((e) => [e.type, e.error?.code]))}`,
    );
    assert.equal(made.of('disconnected').length, 0);
    const result = await made.client.publish('news', 'works');
    assert.ok(result);
  });
});

describe('sdk: channel permissions', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  const as = async (user: string, extra: Record<string, unknown> = {}) =>
    connectClient(ts.wsUrl, { token: await mintToken({ sub: user, ...extra }) });

  test("subscribing to someone else's DM or personal channel is refused with 103", async () => {
    const alice = await as('alice');
    const dm = await expectRefused(alice.client, 'dm:bob,carol');
    assert.equal(dm.code, 103);
    const personal = await expectRefused(alice.client, 'user:bob');
    assert.equal(personal.code, 103);
    // The refusals do not hurt the connection.
    assert.equal(alice.client.state, 'connected');
  });

  test('alice can subscribe to her own DM and personal channel, and DMs reach the other member', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const aliceDm = await subscribe(alice.client, 'dm:alice,bob');
    const bobDm = await subscribe(bob.client, 'dm:alice,bob');
    const own = await subscribe(alice.client, 'user:alice');
    assert.equal(own.sub.state, 'subscribed');

    await bob.client.publish('dm:alice,bob', { text: 'hi alice' });
    await waitFor(() => aliceDm.publications.length > 0, { message: 'DM at alice' });
    assert.deepEqual(aliceDm.publications[0]?.data, { text: 'hi alice' });
    assert.equal(aliceDm.publications[0]?.info?.user, 'bob');
    await waitFor(() => bobDm.publications.length > 0, { message: 'DM echo at bob' });
  });

  test('clients cannot publish to user:<id>, even their own; the server can', async () => {
    const alice = await as('alice');
    const inbox = await subscribe(alice.client, 'user:alice');
    const error = await rejection(alice.client.publish('user:alice', { forged: true }));
    assert.equal(error.code, 103);
    const other = await rejection(alice.client.publish('user:bob', { forged: true }));
    assert.equal(other.code, 103);

    const node = ts.server.node;
    await node.publish(node.channels.resolve('user:alice'), { data: JSON.stringify({ notice: 'from server' }) });
    await waitFor(() => inbox.publications.length > 0, { message: 'server publication at alice' });
    assert.deepEqual(
      inbox.publications.map((p) => p.data),
      [{ notice: 'from server' }],
      'only the server publication arrives',
    );
  });

  test('a subscription token grants a channel the namespace would refuse; its info is chanInfo in presence', async () => {
    const alice = await as('alice', { info: { name: 'Alice' } });
    const bob = await as('bob');
    // Without a token: refused.
    await expectRefused(alice.client, 'dm:bob,carol');
    alice.client.removeSubscription(alice.client.getSubscription('dm:bob,carol'));

    const bobDm = await subscribe(bob.client, 'dm:bob,carol');
    const token = await mintToken({ sub: 'alice', channel: 'dm:bob,carol', info: { role: 'guest' } }, { expiresIn: '1h' });
    const granted = await subscribe(alice.client, 'dm:bob,carol', { token });
    assert.equal(granted.sub.state, 'subscribed');

    const presence = await bobDm.sub.presence();
    const entry = presence.clients[alice.clientId];
    assert.ok(entry, 'alice is present in the channel');
    assert.equal(entry.user, 'alice');
    assert.deepEqual(entry.chanInfo, { role: 'guest' });
    assert.deepEqual(entry.connInfo, { name: 'Alice' });

    await bob.client.publish('dm:bob,carol', { text: 'welcome' });
    await waitFor(() => granted.publications.length > 0, { message: 'publication at the token-granted subscriber' });
    assert.deepEqual(granted.publications[0]?.data, { text: 'welcome' });
  });
});

describe('sdk: Scaledrone-style regex permissions', () => {
  let ts: TestServer;
  let child: ChildServer | undefined;

  /** The permission set of the Scaledrone chat tutorial, for client `id`. */
  const tutorialPermissions = (id: string) => ({
    '^observable-room$': { publish: true, subscribe: true },
    [`^private-room-${id}$`]: { publish: false, subscribe: true },
    [`^private-room-(?!${id}$).+$`]: { publish: true, subscribe: false },
  });
  const scaledroneToken = (id: string, permissions: Record<string, unknown>) =>
    mintToken({ client: id, channel: 'scaledrone-channel-id', permissions, exp: nowSeconds() + 3600 });

  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await child?.stop();
    await ts?.stop();
  });

  test("the tutorial's permissions: observable room both ways, own private room read-only, others' write-only", async () => {
    const alice = await connectClient(ts.wsUrl, { token: await scaledroneToken('alice', tutorialPermissions('alice')) });
    const bob = await connectClient(ts.wsUrl, { token: await scaledroneToken('bob', tutorialPermissions('bob')) });

    const observable = await subscribe(alice.client, 'observable-room');
    assert.equal(observable.sub.state, 'subscribed');
    const ownPrivate = await subscribe(alice.client, 'private-room-alice');
    assert.equal(ownPrivate.sub.state, 'subscribed');
    const refused = await expectRefused(alice.client, 'private-room-bob');
    assert.equal(refused.code, 103);

    // Alice may write into bob's private room; bob (subscribed with his own token) receives it.
    const bobPrivate = await subscribe(bob.client, 'private-room-bob');
    await alice.client.publish('private-room-bob', { text: 'psst bob' });
    await waitFor(() => bobPrivate.publications.length > 0, { message: "alice's message in bob's private room" });
    assert.deepEqual(bobPrivate.publications[0]?.data, { text: 'psst bob' });
    assert.equal(bobPrivate.publications[0]?.info?.user, 'alice', 'the Scaledrone client id is the user');

    // But not into her own.
    const own = await rejection(alice.client.publish('private-room-alice', { text: 'note to self' }));
    assert.equal(own.code, 103);

    // The observable room works both ways.
    await bob.client.publish('observable-room', { text: 'hello all' });
    await waitFor(() => observable.publications.length > 0, { message: 'observable room message' });
    assert.equal(observable.publications[0]?.info?.user, 'bob');
    // A channel no pattern grants is refused too.
    const elsewhere = await rejection(alice.client.publish('news', 'x'));
    assert.equal(elsewhere.code, 103);
  });

  test('a hostile regex does not stall the server', { timeout: 60_000 }, async () => {
    // In a child process: a stalled event loop there cannot stall this test's timers.
    child = await startChildServer();
    const hostile = await connectClient(child.wsUrl, {
      token: await scaledroneToken('mallory', { '^(a+)+$': { subscribe: true } }),
    });
    const victimName = `${'a'.repeat(36)}!`;

    const started = Date.now();
    // The hostile subscribe and an innocent client's whole session run at the same time.
    const refusal = expectRefused(hostile.client, victimName).then((ctx) => ({ ctx, ms: Date.now() - started }));
    const innocent = (async () => {
      const other = await connectClient(child!.wsUrl, { token: await mintToken({ sub: 'innocent' }) });
      const room = await subscribe(other.client, 'room:calm');
      await other.client.publish('room:calm', { ok: true });
      await waitFor(() => room.publications.length > 0, { message: 'innocent publication' });
      return Date.now() - started;
    })();

    const [{ ctx, ms }, innocentMs] = await Promise.all([refusal, innocent]);
    assert.equal(ctx.code, 103, 'a pattern that cannot be matched in time matches nothing');
    assert.ok(ms < 2000, `the hostile subscribe took ${ms} ms`);
    assert.ok(innocentMs < 2000, `another client needed ${innocentMs} ms to connect, subscribe and publish`);

    // A second hostile attempt on another name is refused promptly as well.
    const again = Date.now();
    const second = await expectRefused(hostile.client, `${'a'.repeat(40)}?`);
    assert.equal(second.code, 103);
    assert.ok(Date.now() - again < 2000, 'second hostile subscribe was slow');
    // The hostile client itself is still served.
    assert.equal(hostile.client.state, 'connected');
    assert.equal(child.exited, false);
  });
});
