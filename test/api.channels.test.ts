/**
 * Server HTTP API, channel methods, checked against real SDK clients:
 * publish (no publisher info, stored, tags, skip_history, idempotency),
 * broadcast, presence and presence_stats, history paging, history_remove,
 * channels, info and batch.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { apiCall, apiError, apiResult } from './helpers/api.js';
import { connectClient, disconnectAll, disconnectClient, eventsOf, offsetsOf, range, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('server api: channels', () => {
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
  const publish = (channel: string, data: unknown, extra: Record<string, unknown> = {}) =>
    apiResult(ts, 'publish', { channel, data, ...extra });
  const history = (body: Record<string, unknown>) => apiResult(ts, 'history', body);

  test('publish reaches subscribers without publisher info, with tags, and is in the history (API and SDK)', async () => {
    const alice = await user('alice');
    const room = await subscribe(alice.client, 'room:api-publish');
    const data = { text: 'from the backend', nested: { list: [1, 'two', null], flag: true } };
    const result = await publish('room:api-publish', data, { tags: { kind: 'notice', source: 'ops' } });
    assert.equal(result.offset, 1);
    assert.equal(typeof result.epoch, 'string');
    assert.ok(result.epoch.length > 0);

    const [pub] = await eventsOf(room, 'publication', 1);
    assert.deepEqual(pub.data, data, 'data as given');
    assert.equal(pub.info, undefined, 'a server publication carries no publisher info');
    assert.equal(pub.offset, 1);
    assert.deepEqual(pub.tags, { kind: 'notice', source: 'ops' });

    const page = await history({ channel: 'room:api-publish', limit: 10 });
    assert.deepEqual(page, {
      publications: [{ data, offset: 1, tags: { kind: 'notice', source: 'ops' } }],
      epoch: result.epoch,
      offset: 1,
    });
    const viaSdk = await room.sub.history({ limit: 10 });
    assert.equal(viaSdk.publications.length, 1);
    assert.deepEqual(viaSdk.publications[0]?.data, data);
    assert.equal(viaSdk.publications[0]?.info, undefined);
    assert.equal(viaSdk.epoch, result.epoch);
  });

  test('skip_history delivers without storing or offset; channels without history answer an empty result', async () => {
    const alice = await user('alice');
    const room = await subscribe(alice.client, 'room:api-skip');
    const news = await subscribe(alice.client, 'news');
    await publish('room:api-skip', { kept: 1 });
    assert.deepEqual(await publish('room:api-skip', { kept: 0 }, { skip_history: true }), {});
    assert.deepEqual(await publish('news', { headline: 'no history here' }), {});
    await eventsOf(room, 'publication', 2);
    assert.deepEqual(room.publications.map((p) => [p.data, p.offset]), [[{ kept: 1 }, 1], [{ kept: 0 }, undefined]]);
    const [headline] = await eventsOf(news, 'publication', 1);
    assert.deepEqual(headline.data, { headline: 'no history here' });
    const page = await history({ channel: 'room:api-skip', limit: -1 });
    assert.deepEqual(page.publications.map((p: { data: unknown }) => p.data), [{ kept: 1 }]);
    assert.equal(page.offset, 1);
    assert.equal((await apiError(ts, 'history', { channel: 'news' })).code, 108);
  });

  test('b64data publishes the JSON it holds; a repeated idempotency_key publishes once and answers the same', async () => {
    const alice = await user('alice');
    const room = await subscribe(alice.client, 'room:api-b64');
    const first = await publish('room:api-b64', undefined, {
      b64data: Buffer.from('{"via":"base64"}').toString('base64'),
      idempotency_key: 'order-17',
    });
    const again = await publish('room:api-b64', { different: true }, { idempotency_key: 'order-17' });
    assert.deepEqual(again, first);
    const other = await publish('room:api-b64', { n: 2 }, { idempotency_key: 'order-18' });
    assert.equal(other.offset, 2);
    await eventsOf(room, 'publication', 2);
    assert.deepEqual(room.publications.map((p) => p.data), [{ via: 'base64' }, { n: 2 }]);
    assert.equal((await apiError(ts, 'publish', { channel: 'room:api-b64', b64data: Buffer.from('not json').toString('base64') })).code, 107);
  });

  test('idempotency keys outlive a restart: a retry after it publishes nothing; a chat post keyed twice is one message and one event', async () => {
    const first = await publish('room:api-keyed', { n: 1 }, { idempotency_key: 'job-1' });
    const keyLimit = await apiError(ts, 'publish', { channel: 'room:api-keyed', data: {}, idempotency_key: 'k'.repeat(257) });
    assert.equal(keyLimit.code, 107);
    ts = await ts.restart();
    const alice = await user('alice');
    const room = await subscribe(alice.client, 'room:api-keyed', { since: { offset: 0, epoch: first.epoch } });
    assert.deepEqual(await publish('room:api-keyed', { n: 1 }, { idempotency_key: 'job-1' }), first, 'the retry answers what the first did');
    assert.equal((await publish('room:api-keyed', { n: 2 })).offset, 2, 'the retry took no offset');
    await waitFor(() => room.publications.length === 2, { message: 'both publications arrive' });
    assert.deepEqual(room.publications.map((p) => p.data), [{ n: 1 }, { n: 2 }]);

    // In a conversation, the key is the author's nonce: one message, one `message` event.
    const general = await subscribe(alice.client, 'room:general');
    const posted = await publish('room:general', { text: 'deploy done', username: 'CI' }, { idempotency_key: 'deploy-42' });
    const repeated = await publish('room:general', { text: 'deploy done', username: 'CI' }, { idempotency_key: 'deploy-42' });
    assert.deepEqual(repeated, posted);
    const stored = (await (await fetch(`${ts.server.url}/getAllMessages`)).json()) as Array<{ message: string }>;
    assert.equal(stored.filter((m) => m.message === 'deploy done').length, 1, 'one message in the conversation');
    await waitFor(() => general.publications.length >= 1, { message: 'the message event arrives' });
    assert.equal(general.publications.filter((p) => p.data?.message?.text === 'deploy done').length, 1, 'one event');
    const history = await apiResult<{ publications: Array<{ data: { message?: { text: string } } }> }>(ts, 'history', { channel: 'room:general', limit: 100 });
    assert.equal(history.publications.filter((p) => p.data.message?.text === 'deploy done').length, 1, 'one stored event');
  });

  test('broadcast publishes to every channel and answers per channel, errors included', async () => {
    const alice = await user('alice');
    const one = await subscribe(alice.client, 'room:api-bc-1');
    const two = await subscribe(alice.client, 'room:api-bc-2');
    const result = await apiResult(ts, 'broadcast', {
      channels: ['room:api-bc-1', 'nope:api-bc', 'room:api-bc-2', '', 'news'],
      data: { all: 'hands' },
    });
    assert.equal(result.responses.length, 5);
    const [r1, unknown, r2, empty, plain] = result.responses;
    assert.equal(r1.result.offset, 1);
    assert.equal(typeof r1.result.epoch, 'string');
    assert.equal(unknown.error.code, 102);
    assert.equal(unknown.result, undefined);
    assert.equal(r2.result.offset, 1);
    assert.equal(empty.error.code, 107);
    assert.deepEqual(plain, { result: {} });
    const [p1] = await eventsOf(one, 'publication', 1);
    const [p2] = await eventsOf(two, 'publication', 1);
    assert.deepEqual([p1.data, p2.data], [{ all: 'hands' }, { all: 'hands' }]);
    assert.equal(p1.info, undefined);
  });

  test('presence and presence_stats with two users, one of them on two connections', async () => {
    const aliceInfo = { name: 'Alice' };
    const a1 = await user('alice', aliceInfo);
    const a2 = await user('alice', aliceInfo);
    const bob = await user('bob');
    for (const c of [a1, a2, bob]) await subscribe(c.client, 'room:api-presence');
    const { presence } = await apiResult(ts, 'presence', { channel: 'room:api-presence' });
    assert.deepEqual(presence, {
      [a1.clientId]: { client: a1.clientId, user: 'alice', conn_info: aliceInfo },
      [a2.clientId]: { client: a2.clientId, user: 'alice', conn_info: aliceInfo },
      [bob.clientId]: { client: bob.clientId, user: 'bob' },
    });
    assert.deepEqual(await apiResult(ts, 'presence_stats', { channel: 'room:api-presence' }), { num_clients: 3, num_users: 2 });
    disconnectClient(bob.client);
    await waitFor(async () => {
      const stats = await apiResult(ts, 'presence_stats', { channel: 'room:api-presence' });
      return stats.num_clients === 2 && stats.num_users === 1;
    }, { message: 'presence without bob' });
    assert.deepEqual(await apiResult(ts, 'presence_stats', { channel: 'room:api-presence-empty' }), { num_clients: 0, num_users: 0 });
    assert.deepEqual(await apiResult(ts, 'presence', { channel: 'room:api-presence-empty' }), { presence: {} });
  });

  test('history: no limit gives the position only; limit, since, reverse page through; a wrong epoch is 112', async () => {
    const channel = 'room:api-history';
    let epoch = '';
    for (let i = 1; i <= 5; i++) epoch = (await publish(channel, { i })).epoch;
    const offsets = (page: { publications: { offset: number }[] }) => offsetsOf(page.publications);

    assert.deepEqual(await history({ channel }), { publications: [], epoch, offset: 5 });
    assert.deepEqual(offsets(await history({ channel, limit: 2 })), [1, 2]);
    assert.deepEqual(offsets(await history({ channel, limit: 2, reverse: true })), [5, 4]);
    assert.deepEqual(offsets(await history({ channel, limit: -1 })), range(1, 5));
    assert.deepEqual(offsets(await history({ channel, limit: 10, since: { offset: 2, epoch } })), [3, 4, 5]);
    assert.deepEqual(offsets(await history({ channel, limit: 2, since: { offset: 4, epoch }, reverse: true })), [3, 2]);
    const page = await history({ channel, limit: 1, since: { offset: 3, epoch } });
    assert.deepEqual(page, { publications: [{ data: { i: 4 }, offset: 4 }], epoch, offset: 5 });
    // An empty epoch matches any, as in the client protocol.
    assert.deepEqual(offsets(await history({ channel, limit: 10, since: { offset: 4, epoch: '' } })), [5]);
    const wrong = await apiError(ts, 'history', { channel, limit: 10, since: { offset: 2, epoch: 'not-the-epoch' } });
    assert.equal(wrong.code, 112);
  });

  test('history_remove empties the history under a new epoch; the SDK sees the same', async () => {
    const channel = 'room:api-history-remove';
    const { epoch } = await publish(channel, 'a');
    await publish(channel, 'b');
    assert.deepEqual(await apiResult(ts, 'history_remove', { channel }), {});
    const after = await history({ channel, limit: -1 });
    assert.deepEqual(after.publications, []);
    assert.notEqual(after.epoch, epoch, 'the epoch changed');
    const alice = await user('alice');
    const room = await subscribe(alice.client, channel);
    const viaSdk = await room.sub.history({ limit: 10 });
    assert.equal(viaSdk.publications.length, 0);
    assert.equal(viaSdk.epoch, after.epoch);
    const next = await publish(channel, 'c');
    assert.equal(next.epoch, after.epoch);
    assert.equal((await apiError(ts, 'history_remove', { channel: 'news' })).code, 108);
    assert.equal((await apiError(ts, 'history_remove', { channel: 'nope:x' })).code, 102);
  });

  test('channels lists channels with subscribers on this node, filtered by a glob pattern', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await subscribe(alice.client, 'room:api-ch-one');
    await subscribe(bob.client, 'room:api-ch-one');
    await subscribe(alice.client, 'room:api-ch-two');
    await subscribe(bob.client, 'news');
    const { channels } = await apiResult(ts, 'channels', {});
    assert.deepEqual(channels['room:api-ch-one'], { num_clients: 2 });
    assert.deepEqual(channels['room:api-ch-two'], { num_clients: 1 });
    assert.deepEqual(channels.news, { num_clients: 1 });
    for (const [name, info] of Object.entries(channels as Record<string, { num_clients: number }>)) {
      assert.ok(info.num_clients > 0, `${name} has subscribers`);
    }
    const cases: [string, string[]][] = [
      ['room:api-ch-*', ['room:api-ch-one', 'room:api-ch-two']],
      ['room:api-ch-t?o', ['room:api-ch-two']],
      ['{news,room:api-ch-one}', ['news', 'room:api-ch-one']],
      ['room:api-ch-[!o]*', ['room:api-ch-two']],
      ['*:api-ch-[a-o]ne', ['room:api-ch-one']],
      ['nothing-*', []],
    ];
    for (const [pattern, expected] of cases) {
      const result = await apiResult(ts, 'channels', { pattern });
      assert.deepEqual(Object.keys(result.channels).sort(), expected, pattern);
    }
    assert.equal((await apiError(ts, 'channels', { pattern: 'room:[abc' })).code, 107);
    disconnectClient(alice.client);
    await waitFor(async () => {
      const result = await apiResult(ts, 'channels', { pattern: 'room:api-ch-*' });
      return result.channels['room:api-ch-two'] === undefined && result.channels['room:api-ch-one']?.num_clients === 1;
    }, { message: "alice's channels to drop" });
  });

  test('info describes this node: id, name, version, clients, users, channels, subscriptions, uptime', async () => {
    // Clients of earlier tests are closed by the SDK; wait until the server saw them go.
    await waitFor(async () => {
      const [node] = (await apiResult(ts, 'info')).nodes;
      return node.num_clients === 0 && node.num_subs === 0;
    }, { message: 'no clients left from earlier tests' });
    const a = await user('info-alice');
    const b = await user('info-alice');
    const c = await user('info-bob');
    await subscribe(a.client, 'room:api-info');
    await subscribe(b.client, 'room:api-info');
    await subscribe(c.client, 'room:api-info-2');
    const { nodes } = await apiResult(ts, 'info');
    assert.equal(nodes.length, 1);
    const node = nodes[0];
    assert.deepEqual(Object.keys(node).sort(), ['name', 'num_channels', 'num_clients', 'num_subs', 'num_users', 'uid', 'uptime', 'version']);
    assert.equal(node.uid, ts.server.node.id);
    assert.ok(node.name.endsWith(`_${ts.server.port}`), node.name);
    assert.equal(node.version, VERSION);
    assert.equal(node.num_clients, 3);
    assert.equal(node.num_users, 2);
    assert.equal(node.num_channels, 2);
    assert.equal(node.num_subs, 3);
    assert.ok(Number.isInteger(node.uptime) && node.uptime >= 0);
  });

  test('batch runs commands in order and answers each under its method name or with its error', async () => {
    const answer = await apiCall(ts, 'batch', {
      commands: [
        { publish: { channel: 'room:api-batch', data: 1 } },
        { publish: { channel: 'nope:api-batch', data: 2 } },
        { history: { channel: 'room:api-batch', limit: 10 } },
        { no_such_method: {} },
        null,
      ],
    });
    assert.equal(answer.status, 200, answer.text);
    const [published, unknown, page, notFound, empty] = answer.body.replies;
    assert.equal(published.publish.offset, 1);
    assert.equal(unknown.error.code, 102);
    assert.deepEqual(page.history.publications, [{ data: 1, offset: 1 }]);
    assert.equal(notFound.error.code, 104);
    assert.equal(empty.error.code, 107);
    const parallel = await apiResult(ts, 'history', { channel: 'room:api-batch' });
    assert.equal(parallel.offset, 1);
    const both = await apiCall(ts, 'batch', {
      parallel: true,
      commands: [{ publish: { channel: 'room:api-batch', data: 2 } }, { publish: { channel: 'room:api-batch', data: 3 } }],
    });
    assert.deepEqual(both.body.replies.map((r: { publish: { offset: number } }) => r.publish.offset).sort(), [2, 3]);
  });
});
