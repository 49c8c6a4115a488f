/**
 * `GET /metrics`: after real protocol traffic (connects, subscribes,
 * publishes, a forbidden channel, recoveries of each outcome, a bad frame)
 * the exposition parses as Prometheus text and counts exactly that traffic,
 * without naming any channel or user; each server has its own registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { commandAsker, connectRaw, type RawClient } from './helpers/raw-client.js';
import { sampleOf, scrape, type Exposition } from './helpers/prometheus.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const CHANNEL = 'feed:metrics';
/** The subscribe flag asking for error 112 instead of `recovered: false`. */
const REJECT_UNRECOVERED = 2;

describe('metrics', () => {
  let ts: TestServer;
  let exposition: Exposition;
  let text: string;
  const clients: RawClient[] = [];

  before(async () => {
    ts = await startTestServer({ file: { namespaces: { feed: { historySize: 10, recover: true } } } });
    const connect = async (user: string) => {
      const client = await connectRaw(ts.wsUrl, await mintToken({ sub: user }));
      clients.push(client);
      return { client, ask: commandAsker(client) };
    };
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');

    const subscribed = await bob.ask('subscribe', { channel: CHANNEL });
    const epoch = subscribed.subscribe.epoch as string;
    for (const text of ['one', 'two', 'three']) assert.ok((await alice.ask('publish', { channel: CHANNEL, data: { text } })).publish);
    await waitFor(() => bob.client.received.filter((line) => line.push?.pub).length === 3, { message: 'bob received the three publications' });

    assert.equal((await alice.ask('subscribe', { channel: 'user:bob' })).error?.code, 103, "alice may not subscribe to bob's channel");

    const recovered = await carol.ask('subscribe', { channel: CHANNEL, recover: true, offset: 1, epoch });
    assert.equal(recovered.subscribe.recovered, true);
    await carol.ask('unsubscribe', { channel: CHANNEL });
    const notRecovered = await carol.ask('subscribe', { channel: CHANNEL, recover: true, offset: 1, epoch: 'another-epoch' });
    assert.equal(notRecovered.subscribe.recovered, false);
    await carol.ask('unsubscribe', { channel: CHANNEL });
    const rejected = await carol.ask('subscribe', { channel: CHANNEL, recover: true, offset: 1, epoch: 'another-epoch', flag: REJECT_UNRECOVERED });
    assert.equal(rejected.error?.code, 112);

    const garbled = await connect('dave');
    garbled.client.send('{"id":2,"subscribe":');
    assert.equal((await garbled.client.waitClose()).code, 3501);
    await waitFor(() => ts.server.node.stats().clients === 3, { message: 'the closed connection is gone' });

    ({ text, exposition } = await scrape(ts.server.url));
  });
  after(async () => {
    for (const client of clients) client.close();
    await ts?.stop();
  });

  test('every parley metric has help and a type', () => {
    const names = [...exposition.types.keys()].filter((name) => name.startsWith('parley_'));
    for (const name of [
      'parley_connections',
      'parley_subscriptions',
      'parley_commands_total',
      'parley_errors_total',
      'parley_disconnects_total',
      'parley_publications_published_total',
      'parley_publications_fanned_out_total',
      'parley_publication_deliveries_total',
      'parley_publish_commit_seconds',
      'parley_publish_delivery_seconds',
      'parley_recoveries_total',
      'parley_service_round_trip_seconds',
      'parley_service_failures_total',
      'parley_service_up',
      'parley_event_loop_lag_mean_seconds',
      'parley_event_loop_lag_p99_seconds',
      'parley_event_loop_lag_max_seconds',
    ]) {
      assert.ok(names.includes(name), `${name} is exposed`);
    }
    for (const name of names) assert.ok((exposition.help.get(name) ?? '').length > 10, `${name} has a help text`);
  });

  test('connections and subscriptions are what the node holds now', () => {
    assert.equal(sampleOf(exposition, 'parley_connections'), 3);
    assert.equal(sampleOf(exposition, 'parley_subscriptions'), 1, "bob's subscription; carol's ended or were refused");
  });

  test('commands are counted by method', () => {
    assert.equal(sampleOf(exposition, 'parley_commands_total', { method: 'connect' }), 4);
    assert.equal(sampleOf(exposition, 'parley_commands_total', { method: 'subscribe' }), 5);
    assert.equal(sampleOf(exposition, 'parley_commands_total', { method: 'publish' }), 3);
    assert.equal(sampleOf(exposition, 'parley_commands_total', { method: 'unsubscribe' }), 2);
  });

  test('errors are counted by code, disconnects by close code', () => {
    assert.equal(sampleOf(exposition, 'parley_errors_total', { code: '103' }), 1);
    assert.equal(sampleOf(exposition, 'parley_errors_total', { code: '112' }), 1);
    assert.equal(sampleOf(exposition, 'parley_disconnects_total', { code: '3501' }), 1);
  });

  test('publications in and out, once per fan-out, with commit and delivery latencies', () => {
    assert.equal(sampleOf(exposition, 'parley_publications_published_total'), 3);
    assert.equal(sampleOf(exposition, 'parley_publications_fanned_out_total'), 3);
    assert.equal(sampleOf(exposition, 'parley_publication_deliveries_total'), 3, 'one subscriber for each of three publications');
    assert.equal(sampleOf(exposition, 'parley_publish_commit_seconds_count'), 3);
    assert.equal(sampleOf(exposition, 'parley_publish_delivery_seconds_count'), 3);
    assert.equal(sampleOf(exposition, 'parley_publish_delivery_seconds_bucket', { le: '+Inf' }), 3);
    assert.ok((sampleOf(exposition, 'parley_publish_commit_seconds_sum') ?? -1) >= 0);
  });

  test('recoveries are counted by outcome', () => {
    assert.equal(sampleOf(exposition, 'parley_recoveries_total', { outcome: 'recovered' }), 1);
    assert.equal(sampleOf(exposition, 'parley_recoveries_total', { outcome: 'not_recovered' }), 1);
    assert.equal(sampleOf(exposition, 'parley_recoveries_total', { outcome: 'rejected' }), 1);
  });

  test('event-loop lag is reported in seconds', () => {
    for (const stat of ['mean', 'p99', 'max']) {
      const value = sampleOf(exposition, `parley_event_loop_lag_${stat}_seconds`);
      assert.ok(value !== undefined && Number.isFinite(value) && value >= 0, `${stat}: ${value}`);
    }
  });

  test('no channel name or user appears', () => {
    for (const secret of [CHANNEL, 'feed:', 'user:bob', 'alice', 'carol']) assert.ok(!text.includes(secret), `${secret} is not in the exposition`);
  });

  test('a second server in the same process counts only its own traffic', async () => {
    const other = await startTestServer();
    try {
      const { exposition: fresh } = await scrape(other.server.url);
      assert.equal(sampleOf(fresh, 'parley_connections'), 0);
      assert.equal(sampleOf(fresh, 'parley_publications_published_total'), 0);
      assert.equal(sampleOf(fresh, 'parley_commands_total', { method: 'connect' }), undefined);
    } finally {
      await other.stop();
    }
  });
});
