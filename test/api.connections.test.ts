/**
 * Server HTTP API methods that act on users' connections, observed through
 * the real SDK: disconnect (default and custom codes, one client, a
 * whitelist, only the user named), unsubscribe (the subscription ends for
 * good, presence follows, other channels go on) and subscribe (server-side
 * subscriptions with data, chan_info, recovery, then live publications).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiError, apiResult } from './helpers/api.js';
import { connectClient, disconnectAll, eventsOf, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('server api: connections', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  const user = async (sub: string, info?: unknown) =>
    connectClient(ts.wsUrl, { token: await mintToken(info === undefined ? { sub } : { sub, info }) });
  const presenceOf = async (channel: string): Promise<Record<string, { user: string; chan_info?: unknown }>> =>
    (await apiResult(ts, 'presence', { channel })).presence;
  /** Waits until the server has `user` connected `count` times (the SDK reconnects on its own). */
  const waitConnections = (sub: string, count: number) =>
    waitFor(() => connectionsOf(sub) === count, { message: `${count} connection(s) of ${sub}` });
  const connectionsOf = (sub: string) => [...ts.server.node.allSessions()].filter((s) => s.user === sub).length;

  describe('disconnect', () => {
    test('closes every connection of the user with 3503 "force disconnect" by default; they stay disconnected; others stay', async () => {
      const tab1 = await user('dis-alice');
      const tab2 = await user('dis-alice');
      const bob = await user('dis-bob');
      const bobRoom = await subscribe(bob.client, 'room:api-dis');
      await subscribe(tab1.client, 'room:api-dis');
      assert.deepEqual(await apiResult(ts, 'disconnect', { user: 'dis-alice' }), {});
      for (const tab of [tab1, tab2]) {
        const [ctx] = await eventsOf(tab, 'disconnected', 1);
        assert.equal(ctx.code, 3503);
        assert.equal(ctx.reason, 'force disconnect');
        assert.equal(tab.client.state, 'disconnected');
        // 3503 is terminal: the SDK went to `disconnected`, not to `connecting`.
        assert.equal(tab.of('connecting').filter((c) => c.code === 3503).length, 0);
      }
      await waitConnections('dis-alice', 0);
      await waitFor(async () => Object.keys(await presenceOf('room:api-dis')).length === 1, { message: "alice's presence to go" });
      assert.equal(bob.client.state, 'connected');
      await apiResult(ts, 'publish', { channel: 'room:api-dis', data: 'still here' });
      const pubs = await eventsOf(bobRoom, 'publication', 1);
      assert.equal(pubs[0].data, 'still here');
      // The only `connecting` is the first one, code 0 "connect called".
      assert.deepEqual(bob.of('connecting').map((c) => c.code), [0], 'bob was not touched');
      assert.equal(bob.of('disconnected').length, 0, 'bob was not touched');
    });

    test('a custom reconnect code: the client reconnects; a terminal custom code: it stops', async () => {
      const alice = await user('dis-carol');
      await apiResult(ts, 'disconnect', { user: 'dis-carol', disconnect: { code: 3011, reason: 'come back later' } });
      // The first `connecting` is the initial one (code 0); the second is the server's.
      const [, connecting] = await eventsOf(alice, 'connecting', 2);
      assert.equal(connecting.code, 3011);
      assert.equal(connecting.reason, 'come back later');
      await eventsOf(alice, 'connected', 2);
      assert.equal(alice.client.state, 'connected');

      await apiResult(ts, 'disconnect', { user: 'dis-carol', disconnect: { code: 4501, reason: 'banned' } });
      const [disconnected] = await eventsOf(alice, 'disconnected', 1);
      assert.equal(disconnected.code, 4501);
      assert.equal(disconnected.reason, 'banned');
    });

    test('client narrows to one connection; whitelist spares connections', async () => {
      const tabs = [await user('dis-dave'), await user('dis-dave'), await user('dis-dave')];
      const [first, second, third] = tabs as [typeof tabs[0], typeof tabs[0], typeof tabs[0]];
      await apiResult(ts, 'disconnect', { user: 'dis-dave', client: first.clientId });
      await eventsOf(first, 'disconnected', 1);
      await waitConnections('dis-dave', 2);
      await apiResult(ts, 'disconnect', { user: 'dis-dave', whitelist: [third.clientId] });
      await eventsOf(second, 'disconnected', 1);
      await waitConnections('dis-dave', 1);
      assert.equal(third.client.state, 'connected');
      assert.equal(third.of('disconnected').length, 0);
      // A client id of another user selects nothing.
      await apiResult(ts, 'disconnect', { user: 'dis-other', client: third.clientId });
      assert.equal(third.client.state, 'connected');
      assert.equal(connectionsOf('dis-dave'), 1);
    });

    test('codes outside 3000–4999 and reasons that parse as JSON or exceed 123 bytes are refused with 107', async () => {
      const erin = await user('dis-erin');
      for (const disconnect of [
        { code: 1000, reason: 'normal' },
        { code: 5000, reason: 'too high' },
        { reason: 'no code' },
        { code: 3011, reason: '123' },
        { code: 3011, reason: '{"reconnect":false}' },
        { code: 3011, reason: 'é'.repeat(62) },
      ]) {
        const error = await apiError(ts, 'disconnect', { user: 'dis-erin', disconnect });
        assert.equal(error.code, 107, JSON.stringify(disconnect));
      }
      assert.equal(erin.client.state, 'connected');
    });
  });

  describe('unsubscribe', () => {
    test("ends the user's subscription for good with code 2000; presence and leave follow; other channels go on", async () => {
      const alice = await user('unsub-alice');
      const bob = await user('unsub-bob');
      const aliceOne = await subscribe(alice.client, 'room:api-unsub-1');
      const aliceTwo = await subscribe(alice.client, 'room:api-unsub-2');
      const bobOne = await subscribe(bob.client, 'room:api-unsub-1');
      assert.deepEqual(await apiResult(ts, 'unsubscribe', { user: 'unsub-alice', channel: 'room:api-unsub-1' }), {});

      const [ended] = await eventsOf(aliceOne, 'unsubscribed', 1);
      assert.equal(ended.code, 2000);
      assert.equal(ended.reason, 'server unsubscribe');
      assert.equal(aliceOne.sub.state, 'unsubscribed');
      const leaves = await eventsOf(bobOne, 'leave', 1);
      assert.equal(leaves[0].info.client, alice.clientId);
      assert.deepEqual(Object.keys(await presenceOf('room:api-unsub-1')), [bob.clientId]);
      assert.deepEqual(Object.keys(await presenceOf('room:api-unsub-2')), [alice.clientId]);

      await apiResult(ts, 'publish', { channel: 'room:api-unsub-1', data: 'one' });
      await apiResult(ts, 'publish', { channel: 'room:api-unsub-2', data: 'two' });
      await eventsOf(bobOne, 'publication', 1);
      await eventsOf(aliceTwo, 'publication', 1);
      assert.equal(aliceOne.publications.length, 0, 'nothing of the channel after the unsubscribe');
      // The server itself stopped delivering to alice (the SDK would drop such pushes silently).
      const { channels } = await apiResult(ts, 'channels', { pattern: 'room:api-unsub-?' });
      assert.deepEqual(channels, { 'room:api-unsub-1': { num_clients: 1 }, 'room:api-unsub-2': { num_clients: 1 } });
      assert.equal(aliceOne.of('subscribing').length, 1, 'no resubscribe after code 2000 (only the first subscribe)');
      assert.equal(alice.client.state, 'connected');
      assert.equal(bobOne.sub.state, 'subscribed');
    });

    test('client narrows to one connection; an empty channel ends every subscription of the user', async () => {
      const tab1 = await user('unsub-carol');
      const tab2 = await user('unsub-carol');
      const t1a = await subscribe(tab1.client, 'room:api-unsub-3');
      const t1b = await subscribe(tab1.client, 'room:api-unsub-4');
      const t2a = await subscribe(tab2.client, 'room:api-unsub-3');
      await apiResult(ts, 'unsubscribe', { user: 'unsub-carol', channel: 'room:api-unsub-3', client: tab2.clientId });
      await eventsOf(t2a, 'unsubscribed', 1);
      assert.equal(t1a.sub.state, 'subscribed');
      await apiResult(ts, 'unsubscribe', { user: 'unsub-carol', channel: '' });
      await eventsOf(t1a, 'unsubscribed', 1);
      await eventsOf(t1b, 'unsubscribed', 1);
      assert.deepEqual(await presenceOf('room:api-unsub-3'), {});
      assert.equal((await apiError(ts, 'unsubscribe', { user: 'unsub-carol', channel: 'nope:x' })).code, 102);
    });
  });

  describe('subscribe', () => {
    test('adds a server-side subscription: the SDK emits subscribed with data, then the channel publications', async () => {
      const alice = await user('sub-alice', { name: 'Alice' });
      const bob = await user('sub-bob');
      const result = await apiResult(ts, 'subscribe', {
        user: 'sub-alice',
        channel: 'room:api-sub-1',
        data: { welcome: 'aboard' },
        info: { role: 'moderator' },
      });
      assert.deepEqual(result, {});
      const [subscribed] = await eventsOf(alice, 'subscribed', 1);
      assert.equal(subscribed.channel, 'room:api-sub-1');
      assert.deepEqual(subscribed.data, { welcome: 'aboard' });
      assert.equal(subscribed.recoverable, true, 'room channels recover');
      assert.equal(bob.of('subscribed').length, 0, 'only the user named');

      const presence = await presenceOf('room:api-sub-1');
      assert.deepEqual(presence[alice.clientId], {
        client: alice.clientId,
        user: 'sub-alice',
        conn_info: { name: 'Alice' },
        chan_info: { role: 'moderator' },
      });
      await apiResult(ts, 'publish', { channel: 'room:api-sub-1', data: { n: 1 } });
      const [pub] = await eventsOf(alice, 'publication', 1);
      assert.equal(pub.channel, 'room:api-sub-1');
      assert.deepEqual(pub.data, { n: 1 });
      assert.equal(pub.offset, 1);

      // Subscribing again changes nothing; unsubscribing ends the server-side subscription.
      await apiResult(ts, 'subscribe', { user: 'sub-alice', channel: 'room:api-sub-1' });
      await apiResult(ts, 'unsubscribe', { user: 'sub-alice', channel: 'room:api-sub-1' });
      const [unsubscribed] = await eventsOf(alice, 'unsubscribed', 1);
      assert.equal(unsubscribed.channel, 'room:api-sub-1');
      assert.equal(alice.of('subscribed').length, 1, 'no second subscribed event');
      assert.deepEqual(await presenceOf('room:api-sub-1'), {});
    });

    test('recover_since delivers the publications after it, then live ones, each once and in order', async () => {
      const channel = 'room:api-sub-recover';
      let epoch = '';
      for (let i = 1; i <= 3; i++) epoch = (await apiResult(ts, 'publish', { channel, data: { i } })).epoch;
      const alice = await user('sub-carol');
      await apiResult(ts, 'subscribe', { user: 'sub-carol', channel, recover_since: { offset: 1, epoch } });
      await eventsOf(alice, 'subscribed', 1);
      await apiResult(ts, 'publish', { channel, data: { i: 4 } });
      const pubs = await eventsOf(alice, 'publication', 3);
      assert.deepEqual(pubs.map((p) => [p.channel, p.offset, p.data.i]), [[channel, 2, 2], [channel, 3, 3], [channel, 4, 4]]);
    });

    test('client narrows to one connection; unknown namespaces are 102 and an empty channel is 107', async () => {
      const tab1 = await user('sub-dave');
      const tab2 = await user('sub-dave');
      await apiResult(ts, 'subscribe', { user: 'sub-dave', channel: 'room:api-sub-2', client: tab2.clientId });
      await eventsOf(tab2, 'subscribed', 1);
      const { presence } = await apiResult(ts, 'presence', { channel: 'room:api-sub-2' });
      assert.deepEqual(Object.keys(presence), [tab2.clientId]);
      assert.equal(tab1.of('subscribed').length, 0);
      assert.equal((await apiError(ts, 'subscribe', { user: 'sub-dave', channel: 'nope:x' })).code, 102);
      assert.equal((await apiError(ts, 'subscribe', { user: 'sub-dave', channel: '' })).code, 107);
    });

    test('a connection already subscribed by the client itself is left as it is', async () => {
      const alice = await user('sub-erin');
      const room = await subscribe(alice.client, 'room:api-sub-3');
      await apiResult(ts, 'subscribe', { user: 'sub-erin', channel: 'room:api-sub-3', data: { ignored: true } });
      await apiResult(ts, 'publish', { channel: 'room:api-sub-3', data: 'to the client-side subscription' });
      await eventsOf(room, 'publication', 1);
      assert.equal(alice.of('subscribed').length, 0, 'no server-side subscribed event');
      assert.equal(alice.of('publication').length, 0, 'publications stay with the client-side subscription');
    });
  });
});
