/**
 * Conformance with the real `centrifuge` SDK: connecting, subscribing,
 * publishing, RPC, refused tokens and server-side subscriptions.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { nextEvent } from './helpers/wait.js';
import { flavour } from './helpers/sdk-flavour.js';
import {
  connectClient,
  disconnectAll,
  eventsOf,
  makeClient,
  rejection,
  subscribe,
} from './helpers/sdk.js';

/** Long enough for several reconnect attempts at the test delays (50–300 ms). */
const NO_RECONNECT_WINDOW_MS = 1000;

describe('sdk: connect, publish, rpc', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer();
    ts.server.node.registerRpc('echo', (context, data) => ({ echoed: data, user: context.user, client: context.client }));
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('connected event carries the client id', async () => {
    const token = await mintToken({ sub: 'alice' });
    const { client, clientId, of } = await connectClient(ts.wsUrl, { token });
    assert.equal(typeof clientId, 'string');
    assert.ok(clientId.length > 0, 'client id must not be empty');
    assert.equal(client.state, 'connected');
    const connected = of('connected');
    assert.equal(connected.length, 1);
    assert.equal(connected[0].transport, flavour.transport);
    // A second connection gets another id.
    const other = await connectClient(ts.wsUrl, { token });
    assert.notEqual(other.clientId, clientId);
  });

  test('subscribe, publish and receive own publication with info from the token', async () => {
    const token = await mintToken({ sub: 'alice', info: { name: 'Alice', color: 'red' } });
    const { client, clientId } = await connectClient(ts.wsUrl, { token });
    const room = await subscribe(client, 'room:lobby');
    assert.equal(room.sub.state, 'subscribed');
    assert.equal(room.subscribed.channel, 'room:lobby');
    assert.equal(room.subscribed.recoverable, true, 'room namespace keeps history with recovery');

    const received = nextEvent<[any]>(room.sub, 'publication');
    await client.publish('room:lobby', { text: 'hello', n: 1 });
    const [pub] = await received;
    assert.equal(pub.channel, 'room:lobby');
    assert.deepEqual(pub.data, { text: 'hello', n: 1 });
    assert.ok(pub.info, 'publication from a client carries info');
    assert.equal(pub.info.user, 'alice');
    assert.equal(pub.info.client, clientId);
    assert.deepEqual(pub.info.connInfo, { name: 'Alice', color: 'red' });
    assert.equal(typeof pub.offset, 'number');
    assert.ok(pub.offset > 0);

    // Subscription-level publish works too and goes through the same path.
    const second = nextEvent<[any]>(room.sub, 'publication');
    await room.sub.publish({ text: 'again' });
    const [pub2] = await second;
    assert.deepEqual(pub2.data, { text: 'again' });
    assert.equal(pub2.offset, pub.offset + 1);
  });

  test('publication from another user reaches a subscriber with the publisher info', async () => {
    const alice = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'alice' }) });
    const bob = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'bob', info: { name: 'Bob' } }) });
    const room = await subscribe(alice.client, 'news');
    const received = nextEvent<[any]>(room.sub, 'publication');
    await bob.client.publish('news', 'plain string');
    const [pub] = await received;
    assert.equal(pub.data, 'plain string');
    assert.equal(pub.info.user, 'bob');
    assert.equal(pub.info.client, bob.clientId);
    assert.deepEqual(pub.info.connInfo, { name: 'Bob' });
    assert.equal(pub.offset, undefined, 'a channel without history has no offsets');
  });

  test('rpc to a registered method returns its data', async () => {
    const { client, clientId } = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'alice' }) });
    const result = await client.rpc('echo', { question: 42 });
    assert.deepEqual(result.data, { echoed: { question: 42 }, user: 'alice', client: clientId });
  });

  test('rpc to an unknown method rejects with code 104', async () => {
    const { client } = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'alice' }) });
    const error = await rejection(client.rpc('no-such-method', {}));
    assert.equal(error.code, 104);
    // The connection is unaffected.
    assert.equal(client.state, 'connected');
    const ok = await client.rpc('echo', 'still here');
    assert.equal(ok.data.echoed, 'still here');
  });

  test('connecting without a token is refused with 101 and no reconnect loop', async () => {
    const made = makeClient(ts.wsUrl);
    const disconnected = nextEvent<[{ code: number; reason: string }]>(made.client, 'disconnected');
    made.client.connect();
    const [ctx] = await disconnected;
    assert.equal(ctx.code, 101);
    assert.equal(made.client.state, 'disconnected');
    const connectingBefore = made.of('connecting').length;
    await new Promise((resolve) => setTimeout(resolve, NO_RECONNECT_WINDOW_MS));
    assert.equal(made.of('connecting').length, connectingBefore, 'the client must not try again');
    assert.equal(made.of('connected').length, 0);
    assert.equal(made.client.state, 'disconnected');
  });

  const badTokens: [string, () => Promise<string>][] = [
    ['a token signed with the wrong secret', () => mintToken({ sub: 'alice' }, { secret: 'wrong-secret-0123456789abcdef0123456789' })],
    [
      'an alg:none token',
      async () => {
        const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice' })}.`;
      },
    ],
    ['a garbage token', async () => 'this-is-not-a-jwt'],
    [
      'an HS256 token with a forged signature',
      async () => {
        const real = await mintToken({ sub: 'alice' });
        const [header, , signature] = real.split('.');
        const payload = Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
  ];

  for (const [name, makeToken] of badTokens) {
    test(`${name} ends in disconnected 3500 without reconnecting`, async () => {
      const made = makeClient(ts.wsUrl, { token: await makeToken() });
      const disconnected = nextEvent<[{ code: number; reason: string }]>(made.client, 'disconnected');
      made.client.connect();
      const [ctx] = await disconnected;
      assert.equal(ctx.code, 3500, `expected invalid token (3500), got ${ctx.code} ${ctx.reason}`);
      assert.equal(made.of('connected').length, 0, 'must never be connected');
      const connectingBefore = made.of('connecting').length;
      await new Promise((resolve) => setTimeout(resolve, NO_RECONNECT_WINDOW_MS));
      assert.equal(made.of('connecting').length, connectingBefore, 'the client must not reconnect');
      assert.equal(made.client.state, 'disconnected');
    });
  }

  test('server-side subscription from the token channels claim receives publications', async () => {
    const token = await mintToken({ sub: 'alice', channels: ['room:srv', 'alerts'] });
    const made = makeClient(ts.wsUrl, { token });
    made.client.connect();
    const subscribed = await eventsOf(made, 'subscribed', 2);
    const channels = subscribed.map((ctx) => ctx.channel).sort();
    assert.deepEqual(channels, ['alerts', 'room:srv']);
    const srv = subscribed.find((ctx) => ctx.channel === 'room:srv');
    assert.equal(srv.recoverable, true);

    const node = ts.server.node;
    await node.publish(node.channels.resolve('room:srv'), { data: JSON.stringify({ hello: 'server side' }) });
    await node.publish(node.channels.resolve('alerts'), { data: JSON.stringify({ level: 'warn' }) });
    const pubs = await eventsOf(made, 'publication', 2);
    const byChannel = new Map(pubs.map((p) => [p.channel, p]));
    assert.deepEqual(byChannel.get('room:srv')?.data, { hello: 'server side' });
    assert.equal(byChannel.get('room:srv')?.offset, 1);
    assert.deepEqual(byChannel.get('alerts')?.data, { level: 'warn' });

    // A client publish to the same channel also arrives through the client-level event.
    await made.client.publish('room:srv', { from: 'client' });
    const all = await eventsOf(made, 'publication', 3);
    assert.deepEqual(all[2].data, { from: 'client' });
    assert.equal(all[2].info.user, 'alice');
    // It must not have created a client-side subscription.
    assert.equal(made.client.getSubscription('room:srv'), null);
  });
});
