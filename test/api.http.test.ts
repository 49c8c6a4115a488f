/**
 * Server HTTP API, the HTTP side: API key authentication (both header
 * forms, constant failure otherwise, nothing done without it), unknown
 * methods, malformed requests, Centrifugo's error placement (200 with an
 * `error` body, or HTTP statuses in transport error mode), any Content-Type,
 * the body limit, and logs that never hold the key.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, apiError, apiResult } from './helpers/api.js';
import { disconnectAll, eventsOf, makeClient, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, TEST_API_KEY, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('server api: http', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ flags: ['--max-message-size', '4096'] });
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  const history = async (channel: string) => apiResult(ts, 'history', { channel, limit: -1 });

  test('both header forms authenticate: X-API-Key and Authorization: apikey (scheme in any case)', async () => {
    const viaHeader = await apiCall(ts, 'publish', { channel: 'room:auth-ok', data: { n: 1 } });
    assert.equal(viaHeader.status, 200, viaHeader.text);
    assert.equal(viaHeader.body.result.offset, 1);
    for (const scheme of ['apikey', 'ApiKey']) {
      const viaAuthorization = await apiCall(ts, 'publish', { channel: 'room:auth-ok', data: { n: 2 } }, {
        headers: { Authorization: `${scheme} ${TEST_API_KEY}`, 'Content-Type': 'application/json' },
      });
      assert.equal(viaAuthorization.status, 200, viaAuthorization.text);
    }
    assert.equal((await history('room:auth-ok')).publications.length, 3);
  });

  test('a missing or wrong key is 401 with an empty body, and the publish is neither delivered nor stored', async () => {
    const client = makeClient(ts.wsUrl, { token: await mintToken({ sub: 'watcher' }) });
    client.client.connect();
    const room = await subscribe(client.client, 'room:auth-refused');
    const refusals: Record<string, string>[] = [
      { 'Content-Type': 'application/json' },
      { 'X-API-Key': 'wrong-key-0123456789abcdef', 'Content-Type': 'application/json' },
      { 'X-API-Key': `${TEST_API_KEY}x`, 'Content-Type': 'application/json' },
      { Authorization: 'apikey wrong-key-0123456789', 'Content-Type': 'application/json' },
      { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' },
      { Authorization: `apikey ${TEST_API_KEY} extra`, 'Content-Type': 'application/json' },
      // X-API-Key decides when present, as in Centrifugo: a wrong one is not saved by a right Authorization.
      { 'X-API-Key': 'wrong', Authorization: `apikey ${TEST_API_KEY}`, 'Content-Type': 'application/json' },
    ];
    for (const headers of refusals) {
      const answer = await apiCall(ts, 'publish', { channel: 'room:auth-refused', data: { forged: true } }, { headers });
      assert.equal(answer.status, 401, `${JSON.stringify(Object.keys(headers))}: ${answer.text}`);
      assert.equal(answer.text, '');
    }
    // Other methods are refused the same way, even unknown ones.
    for (const method of ['history_remove', 'disconnect', 'no_such_method']) {
      const answer = await apiCall(ts, method, { channel: 'room:auth-refused', user: 'watcher' }, { headers: {} });
      assert.equal(answer.status, 401, method);
    }
    // A marker published with the key is the first and only thing the subscriber and the history see.
    await apiResult(ts, 'publish', { channel: 'room:auth-refused', data: { marker: true } });
    await eventsOf(room, 'publication', 1);
    assert.deepEqual(room.publications.map((p) => p.data), [{ marker: true }]);
    const page = await history('room:auth-refused');
    assert.deepEqual(page.publications.map((p: { data: unknown }) => p.data), [{ marker: true }]);
    assert.equal(page.offset, 1);
    assert.equal(client.client.state, 'connected', 'the refused calls disconnected no one');
  });

  test('an unknown method is 404 with error 104 "not found"', async () => {
    const answer = await apiCall(ts, 'publish_everything', { channel: 'room:x', data: 1 });
    assert.equal(answer.status, 404);
    assert.deepEqual(answer.body, { error: { code: 104, message: 'not found' } });
  });

  test('malformed JSON, a non-object body or a wrongly typed field is 400 with error 107, and nothing is published', async () => {
    const channel = 'room:malformed';
    await apiResult(ts, 'publish', { channel, data: 'first' });
    const bad: { name: string; raw?: string; body?: unknown; method?: string }[] = [
      { name: 'truncated JSON', raw: '{"channel": "room:malformed", "data": {' },
      { name: 'not JSON', raw: 'channel=room:malformed&data=1' },
      { name: 'an array body', raw: '[{"channel": "room:malformed", "data": 1}]' },
      { name: 'a string body', raw: '"room:malformed"' },
      { name: 'channel as a number', body: { channel: 5, data: 1 } },
      { name: 'skip_history as a string', body: { channel, data: 1, skip_history: 'yes' } },
      { name: 'a tag that is not a string', body: { channel, data: 1, tags: { n: 1 } } },
      { name: 'tags as a list', body: { channel, data: 1, tags: ['a'] } },
      { name: 'idempotency_key as a number', body: { channel, data: 1, idempotency_key: 7 } },
      { name: 'channels as a string', method: 'broadcast', body: { channels: channel, data: 1 } },
      { name: 'a channel of the list as a number', method: 'broadcast', body: { channels: [channel, 3], data: 1 } },
      { name: 'limit as a string', method: 'history', body: { channel, limit: '5' } },
      { name: 'limit not an integer', method: 'history', body: { channel, limit: 1.5 } },
      { name: 'a negative since offset', method: 'history', body: { channel, since: { offset: -1, epoch: '' } } },
      { name: 'disconnect code as a string', method: 'disconnect', body: { user: 'u', disconnect: { code: '3000', reason: 'x' } } },
      { name: 'a batch command that is not an object', method: 'batch', body: { commands: [{ publish: { channel, data: 1 } }, { publish: 5 }] } },
    ];
    for (const { name, raw, body, method } of bad) {
      const answer = await apiCall(ts, method ?? 'publish', body, raw === undefined ? {} : { raw });
      assert.equal(answer.status, 400, `${name}: ${answer.text}`);
      assert.equal(answer.body?.error?.code, 107, `${name}: ${answer.text}`);
    }
    const page = await history(channel);
    assert.deepEqual(page.publications.map((p: { data: unknown }) => p.data), ['first'], 'nothing else was published (not even the batch\'s first command)');
  });

  test('values a method refuses are 200 with an error body, as in Centrifugo', async () => {
    assert.equal((await apiError(ts, 'publish', { channel: '', data: 1 })).code, 107);
    assert.equal((await apiError(ts, 'publish', { data: 1 })).code, 107);
    assert.equal((await apiError(ts, 'publish', { channel: 'room:refused' })).code, 107, 'data is required');
    assert.equal((await apiError(ts, 'publish', { channel: 'nope:x', data: 1 })).code, 102, 'unknown namespace');
    assert.equal((await apiError(ts, 'publish', { channel: 'room:refused', b64data: 'not base64!' })).code, 107);
    assert.equal((await apiError(ts, 'broadcast', { channels: [], data: 1 })).code, 107);
    assert.equal((await apiError(ts, 'presence', { channel: 'news' })).code, 108, 'no presence in the default namespace');
    // `null` reads as the zero value, as Go decodes it: here an empty channel.
    assert.equal((await apiError(ts, 'publish', { channel: null, data: 1 })).code, 107);
    // The method is checked before anything is published.
    assert.equal((await history('room:refused')).offset, 0);
  });

  test('transport error mode answers method errors with the HTTP status and the bare error', async () => {
    const headers = { 'X-API-Key': TEST_API_KEY, 'Content-Type': 'application/json', 'X-Centrifugo-Error-Mode': 'transport' };
    const cases: [string, unknown, number, number][] = [
      ['publish', { channel: 'nope:x', data: 1 }, 404, 102],
      ['publish', { channel: '', data: 1 }, 400, 107],
      ['presence', { channel: 'news' }, 400, 108],
      ['history', { channel: 'room:transport', since: { offset: 0, epoch: 'wrong-epoch' } }, 416, 112],
    ];
    for (const [method, body, status, code] of cases) {
      const answer = await apiCall(ts, method, body, { headers });
      assert.equal(answer.status, status, `${method}: ${answer.text}`);
      assert.equal(answer.body.code, code);
      assert.equal(typeof answer.body.message, 'string');
    }
    const ok = await apiCall(ts, 'publish', { channel: 'room:transport', data: 1 }, { headers });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.offset, 1);
  });

  test('any Content-Type is read as JSON (curl --data sends a form type); an empty body is {}', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream']) {
      const answer = await apiCall(ts, 'publish', undefined, {
        raw: JSON.stringify({ channel: 'room:types', data: type }),
        headers: { 'X-API-Key': TEST_API_KEY, 'Content-Type': type },
      });
      assert.equal(answer.status, 200, `${type}: ${answer.text}`);
      assert.equal(answer.headers.get('content-type')?.startsWith('application/json'), true);
    }
    const noType = await apiCall(ts, 'info', undefined, { raw: '', headers: { 'X-API-Key': TEST_API_KEY } });
    assert.equal(noType.status, 200, noType.text);
    assert.equal(noType.body.result.nodes.length, 1);
    const page = await history('room:types');
    assert.equal(page.publications.length, 3);
  });

  test('a body over maxMessageSize plus the envelope room is 413, and nothing is published', async () => {
    const answer = await apiCall(ts, 'publish', { channel: 'room:big', data: 'x'.repeat(4096 + 70 * 1024) });
    assert.equal(answer.status, 413, answer.text);
    assert.equal(answer.body?.error?.code, 107);
    const fits = await apiCall(ts, 'publish', { channel: 'room:big', data: 'x'.repeat(4000) });
    assert.equal(fits.status, 200);
    assert.equal((await history('room:big')).offset, 1);
  });

  test('calls are logged at debug with method and channel or user; the key never reaches the logs', async () => {
    const channel = 'room:logged-call';
    await apiResult(ts, 'publish', { channel, data: 1 });
    await apiResult(ts, 'disconnect', { user: 'logged-user' });
    await apiCall(ts, 'publish', { channel, data: 1 }, { headers: { Authorization: `apikey ${TEST_API_KEY}` } });
    await apiCall(ts, 'publish', { channel, data: 1 }, { headers: { 'X-API-Key': `${TEST_API_KEY}-wrong` } });
    const lines = await waitFor(() => {
      const found = ts.logs.filter((line) => line.includes('"server api call"'));
      return found.some((l) => l.includes('logged-user')) ? found : undefined;
    }, { message: 'the API call log lines' });
    const calls = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(calls.some((c) => c.method === 'publish' && c.channel === channel && c.level === 20), 'publish logged at debug');
    assert.ok(calls.some((c) => c.method === 'disconnect' && c.user === 'logged-user'), 'disconnect logged with its user');
    assert.ok(ts.logs.some((line) => line.includes('without a valid key')), 'the refusal is logged');
    for (const line of ts.logs) assert.ok(!line.includes(TEST_API_KEY), `the key leaked into: ${line}`);
  });
});
