/**
 * The backend proxy with the real SDK and a real backend (node:http on port
 * 0): connect with a cookie and no token, server-side refresh, subscribe,
 * publish (validated, rewritten, refused), rpc, the backend failing in every
 * way, and no call at all when no proxy is configured.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { startBackend, type BackendCall, type BackendAnswer, type TestBackend } from './helpers/proxy-backend.js';
import { httpUrl } from './helpers/sdk-flavour.js';
import { connectClient, disconnectAll, eventsOf, makeClient, makeClientAt, rejection, subscribe } from './helpers/sdk.js';
import { waitFor } from './helpers/wait.js';

const COOKIE = 'app_session=s3cr3t-cookie-value';

/** A WebSocket class for the SDK that sends these headers with its upgrade request, as a browser sends its cookie. */
function withHeaders(headers: Record<string, string>): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  } as typeof WebSocket;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The default backend: a user from the cookie, and every other call allowed as sent. */
function allowAll(call: BackendCall): BackendAnswer {
  if (call.path === '/connect') {
    if (!String(call.headers.cookie ?? '').includes('app_session=')) return { disconnect: { code: 4501, reason: 'no session' } };
    return { result: { user: 'alice', info: { name: 'Alice' }, data: { welcome: true }, meta: { tier: 'gold' } } };
  }
  return { result: {} };
}

function proxyFile(backend: TestBackend, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connectProxyUrl: `${backend.url}/connect`,
    refreshProxyUrl: `${backend.url}/refresh`,
    subscribeProxyUrl: `${backend.url}/subscribe`,
    publishProxyUrl: `${backend.url}/publish`,
    rpcProxyUrl: `${backend.url}/rpc`,
    proxyTimeout: '300ms',
    proxyHttpHeaders: ['Cookie', 'X-App-Version'],
    proxyEmulatedHeaders: ['X-App-Version', 'X-Device'],
    namespaces: {
      guarded: { proxySubscribe: true, presence: true },
      checked: { proxyPublish: true, historySize: 10, historyTtl: '1h' },
    },
    ...extra,
  };
}

describe('backend proxy', () => {
  let backend: TestBackend;
  let ts: TestServer;
  const cookieSocket = withHeaders({ Cookie: COOKIE, 'X-App-Version': '2.1', 'X-Not-Forwarded': 'private' });

  before(async () => {
    backend = await startBackend(allowAll);
    ts = await startTestServer({ file: proxyFile(backend) });
  });
  afterEach(() => {
    disconnectAll();
    backend.answer(allowAll);
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
    await backend?.close();
  });

  test('connect: a client with a cookie and no token is authenticated by the backend, with exactly the configured headers', async () => {
    backend.answer((call) =>
      call.path === '/connect'
        ? { result: { user: 'alice', info: { name: 'Alice' }, data: { welcome: true }, channels: ['news'], subs: { 'guarded:desk': { info: { seat: 3 }, data: { first: true } } }, meta: { tier: 'gold' } } }
        : allowAll(call),
    );
    const before = backend.callsTo('/connect').length;
    const made = makeClient(ts.wsUrl, { websocket: cookieSocket, data: { screen: 'wide' } });
    const serverSide = eventsOf(made, 'subscribed', 2);
    made.client.connect();
    const [connected] = await eventsOf(made, 'connected');
    assert.deepEqual(connected.data, { welcome: true });

    const call = backend.callsTo('/connect')[before]!;
    assert.equal(call.body.client, connected.client);
    assert.equal(call.body.transport, 'websocket');
    assert.equal(call.body.protocol, 'json');
    assert.equal(call.body.encoding, 'json');
    assert.equal(call.body.name, 'js');
    assert.deepEqual(call.body.data, { screen: 'wide' });
    assert.equal(call.body.user, undefined, 'no user before the backend names one');
    assert.equal(call.headers.cookie, COOKIE);
    assert.equal(call.headers['x-app-version'], '2.1');
    assert.equal(call.headers['x-not-forwarded'], undefined, 'a header not configured is not forwarded');
    assert.equal(call.headers['content-type'], 'application/json');

    // Server-side subscriptions from `channels` and `subs`; `subs` data reaches the client.
    const subscribed = await serverSide;
    const byChannel = new Map(subscribed.map((ctx: any) => [ctx.channel, ctx]));
    assert.ok(byChannel.has('news'));
    assert.deepEqual(byChannel.get('guarded:desk').data, { first: true });
    // The connection's info from the backend, and the `subs` chan_info, are what others see.
    const presence = await made.client.presence('guarded:desk');
    const me = presence.clients[connected.client]!;
    assert.equal(me.user, 'alice');
    assert.deepEqual(me.connInfo, { name: 'Alice' });
    assert.deepEqual(me.chanInfo, { seat: 3 });
  });

  test('connect: the backend\'s disconnect closes with its code, its error reaches the client, and a token skips the backend', async () => {
    const refused = makeClient(ts.wsUrl);
    refused.client.connect();
    const [disconnected] = await eventsOf(refused, 'disconnected');
    assert.equal(disconnected.code, 4501);
    assert.equal(disconnected.reason, 'no session');

    backend.answer((call) => (call.path === '/connect' ? { error: { code: 1403, message: 'session revoked' } } : allowAll(call)));
    const errored = makeClient(ts.wsUrl, { websocket: cookieSocket });
    errored.client.connect();
    const [ended] = await eventsOf(errored, 'disconnected');
    assert.equal(ended.code, 1403);
    assert.equal(ended.reason, 'session revoked');

    const calls = backend.callsTo('/connect').length;
    const token = await mintToken({ sub: 'bob' });
    await connectClient(ts.wsUrl, { token, websocket: cookieSocket });
    assert.equal(backend.callsTo('/connect').length, calls, 'a connection with a token is verified as before, without the backend');
  });

  test('refresh: the server asks the backend before expiry, extends, then disconnects with the expired code when refused', async () => {
    let refreshes = 0;
    backend.answer((call) => {
      if (call.path === '/connect') return { result: { user: 'carol', expire_at: nowSeconds() + 1, meta: { plan: 'trial' } } };
      if (call.path === '/refresh') {
        refreshes++;
        return refreshes === 1 ? { result: { expire_at: nowSeconds() + 1, info: { refreshed: true } } } : { result: { expired: true } };
      }
      return allowAll(call);
    });
    const made = makeClient(ts.wsUrl, { websocket: cookieSocket });
    made.client.connect();
    const [connected] = await eventsOf(made, 'connected');
    // Server-side refresh: the client is not told to refresh (it has no getToken, and would stop if asked).
    const [, closed] = await eventsOf(made, 'connecting', 2, 10_000);
    assert.equal(closed.code, 3005, `expected the expired close, got ${JSON.stringify(closed)}`);
    const calls = backend.callsTo('/refresh').filter((call) => call.body.client === connected.client);
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.equal(call.body.user, 'carol');
      assert.deepEqual(call.body.meta, { plan: 'trial' });
      assert.equal(call.headers.cookie, COOKIE);
    }
    assert.equal(made.of('disconnected').length, 0, 'expired is a reconnect, not a terminal disconnect');
  });

  for (const [what, answer] of [
    ['an expire_at in the past', () => ({ result: { expire_at: nowSeconds() - 60 } })],
    ['no expire_at', () => ({ result: {} })],
    ['expire_at 0', () => ({ result: { expire_at: 0 } })],
  ] as const) {
    test(`refresh: an answer with ${what} ends the connection as expired after one call (no storm, no endless connection)`, async () => {
      backend.answer((call) => {
        if (call.path === '/connect') return { result: { user: 'dora', expire_at: nowSeconds() + 1 } };
        if (call.path === '/refresh') return answer();
        return allowAll(call);
      });
      const made = makeClient(ts.wsUrl, { websocket: cookieSocket });
      made.client.connect();
      const [connected] = await eventsOf(made, 'connected');
      const [, closed] = await eventsOf(made, 'connecting', 2, 10_000);
      assert.equal(closed.code, 3005, `expected the expired close, got ${JSON.stringify(closed)}`);
      assert.equal(backend.callsTo('/refresh').filter((call) => call.body.client === connected.client).length, 1);
    });
  }

  test('subscribe: allowed with info and data, refused with the backend\'s error, or the connection closed by its disconnect', async () => {
    backend.answer((call) => {
      if (call.path !== '/subscribe') return allowAll(call);
      if (call.body.channel === 'guarded:open') return { result: { info: { role: 'reader' }, data: { motd: 'hi' } } };
      if (call.body.channel === 'guarded:closed') return { error: { code: 1404, message: 'no such desk' } };
      return { disconnect: { code: 4502, reason: 'banned' } };
    });
    const made = await connectClient(ts.wsUrl, { websocket: cookieSocket });
    const open = await subscribe(made.client, 'guarded:open', { data: { want: 'open' } });
    assert.deepEqual(open.subscribed.data, { motd: 'hi' });
    const call = backend.callsTo('/subscribe').find((c) => c.body.channel === 'guarded:open' && c.body.client === made.clientId)!;
    assert.equal(call.body.user, 'alice');
    assert.deepEqual(call.body.data, { want: 'open' });
    assert.deepEqual(call.body.meta, { tier: 'gold' });
    assert.equal(call.headers.cookie, COOKIE);
    const presence = await open.sub.presence();
    assert.deepEqual(presence.clients[made.clientId]!.chanInfo, { role: 'reader' });

    const refused = await rejection(subscribe(made.client, 'guarded:closed'));
    assert.equal(refused.code, 1404);

    made.client.newSubscription('guarded:kick').subscribe();
    const [disconnected] = await eventsOf(made, 'disconnected');
    assert.equal(disconnected.code, 4502);
    assert.equal(disconnected.reason, 'banned');
  });

  test('publish: the backend validates, rewrites (subscribers and history get the rewrite), skips history, or refuses', async () => {
    backend.answer((call) => {
      if (call.path !== '/publish') return allowAll(call);
      const text = call.body.data?.text;
      if (text === 'spam') return { error: { code: 1429, message: 'looks like spam' } };
      if (text === 'shout') return { result: { data: { text: 'SHOUT', checked: true } } };
      if (text === 'typing') return { result: { skip_history: true } };
      return { result: {} };
    });
    const made = await connectClient(ts.wsUrl, { websocket: cookieSocket });
    const channel = `checked:${Date.now()}`;
    const sub = await subscribe(made.client, channel);

    await made.client.publish(channel, { text: 'shout' });
    await made.client.publish(channel, { text: 'typing' });
    await made.client.publish(channel, { text: 'plain' });
    const refused = await rejection(made.client.publish(channel, { text: 'spam' }));
    assert.equal(refused.code, 1429);
    assert.equal(refused.message, 'looks like spam');

    await waitFor(() => sub.publications.length >= 3, { message: 'three publications' });
    assert.deepEqual(sub.publications.map((p) => p.data), [{ text: 'SHOUT', checked: true }, { text: 'typing' }, { text: 'plain' }]);
    const history = await made.client.history(channel, { limit: 10 });
    assert.deepEqual(history.publications.map((p) => p.data), [{ text: 'SHOUT', checked: true }, { text: 'plain' }]);
    const call = backend.callsTo('/publish').find((c) => c.body.channel === channel)!;
    assert.equal(call.body.user, 'alice');
    assert.deepEqual(call.body.meta, { tier: 'gold' });
  });

  test('rpc: methods the server does not have go to the backend with the user; chat methods stay local', async () => {
    backend.answer((call) => (call.path === '/rpc' ? { result: { data: { echoed: call.body.data, by: call.body.user } } } : allowAll(call)));
    const made = await connectClient(ts.wsUrl, { websocket: cookieSocket });
    const answer = await made.client.rpc('orders.list', { page: 2 });
    assert.deepEqual(answer.data, { echoed: { page: 2 }, by: 'alice' });
    const call = backend.callsTo('/rpc').at(-1)!;
    assert.equal(call.body.method, 'orders.list');
    assert.equal(call.body.client, made.clientId);
    assert.deepEqual(call.body.meta, { tier: 'gold' });

    // A backend written for binary clients may answer base64: it is decoded, and must hold JSON.
    backend.answer((call) => (call.path === '/rpc' ? { result: { b64data: Buffer.from('{"n":1}').toString('base64') } } : allowAll(call)));
    assert.deepEqual((await made.client.rpc('orders.count', {})).data, { n: 1 });

    const rpcCalls = backend.callsTo('/rpc').length;
    await made.client.rpc('chat.rooms', {}).catch(() => undefined);
    assert.equal(backend.callsTo('/rpc').length, rpcCalls, 'a method the server has never reaches the backend');
  });

  test('failures: a backend down, slow, answering 500 or malformed JSON is a temporary error to the client, logged without the cookie', async () => {
    const made = await connectClient(ts.wsUrl, { websocket: cookieSocket });
    const cases: [string, BackendAnswer, RegExp][] = [
      ['timeout', 'hang', /did not answer within 300 ms/],
      ['status', { status: 500, text: '{"result":{}}' }, /HTTP 500/],
      ['malformed', { status: 200, text: '{"result": {"data": ' }, /not JSON/],
      ['bad error code', { error: { code: 5, message: 'x' } }, /outside 100–1999/],
    ];
    for (const [name, reply, message] of cases) {
      backend.answer((call) => (call.path === '/rpc' ? reply : allowAll(call)));
      const error = (await rejection(made.client.rpc('orders.list', {}))) as { code: number; message: string; temporary?: boolean };
      assert.equal(error.code, 100, name);
      // The client learns which proxy failed; what went wrong (addresses, statuses) is only in the log.
      assert.equal(error.message, 'rpc proxy failed', name);
      assert.ok(ts.logs.some((line) => line.includes('backend proxy call failed') && message.test(line)), `${name}: the log says why`);
    }
    // A publish through a failing backend is refused the same way, and nothing is published.
    backend.answer((call) => (call.path === '/publish' ? { status: 503, text: 'down for maintenance' } : allowAll(call)));
    const channel = `checked:failing-${Date.now()}`;
    const refused = await rejection(made.client.publish(channel, { text: 'lost?' }));
    assert.equal(refused.code, 100);
    assert.equal(refused.message, 'publish proxy failed', 'the backend\'s details stay in the log');
    assert.equal((await made.client.history(channel, { limit: 10 })).publications.length, 0);
    // The server is fine: the next call through a healthy backend works.
    backend.answer((call) => (call.path === '/rpc' ? { result: { data: 'ok' } } : allowAll(call)));
    assert.equal((await made.client.rpc('orders.list', {})).data, 'ok');
    const metrics = await (await fetch(`${ts.wsUrl.replace(/^ws/, 'http').replace(/\/connection\/websocket$/, '')}/metrics`)).text();
    const failedRpcs = Number(/parley_proxy_calls_total\{proxy="rpc",outcome="failed"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(failedRpcs >= 4, `failed rpc calls are counted: ${failedRpcs}`);
    assert.match(metrics, /parley_proxy_calls_total\{proxy="publish",outcome="failed"\} [1-9]/);
    const warnings = ts.logs.filter((line) => line.includes('backend proxy call failed'));
    assert.ok(warnings.length >= 5);
    assert.ok(!ts.logs.some((line) => line.includes('s3cr3t-cookie-value')), 'the cookie is never logged');
  });

  test('failures: with the backend down, connect answers a temporary error and the client keeps retrying', async () => {
    const down = await startBackend();
    await down.close();
    const broken = await startTestServer({ file: { connectProxyUrl: `${down.url}/connect`, proxyTimeout: '300ms', proxyHttpHeaders: ['Cookie'] } });
    try {
      const made = makeClient(broken.wsUrl, { websocket: cookieSocket });
      made.client.connect();
      const errors = await eventsOf(made, 'error', 2);
      assert.equal(errors[0].error.code, 100);
      assert.equal(errors[0].error.message, 'connect proxy failed');
      assert.ok(broken.logs.some((line) => line.includes('backend proxy call failed') && line.includes('could not be reached')));
      assert.equal(made.client.state, 'connecting', 'a temporary error: the client reconnects');
      assert.ok(!broken.logs.some((line) => line.includes('s3cr3t-cookie-value')));
    } finally {
      disconnectAll();
      await broken.stop();
    }
  });
});

describe('backend proxy not configured', () => {
  test('no request reaches a backend while clients connect, subscribe, publish and call rpc', async () => {
    const backend = await startBackend();
    const ts = await startTestServer({ file: { namespaces: { checked: { historySize: 10, historyTtl: '1h' } } } });
    try {
      const made = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'dave' }), websocket: withHeaders({ Cookie: COOKIE }) });
      const sub = await subscribe(made.client, 'checked:quiet');
      await made.client.publish('checked:quiet', { text: 'hello' });
      await waitFor(() => sub.publications.length === 1);
      const error = await rejection(made.client.rpc('orders.list', {}));
      assert.equal(error.code, 104, 'an unknown method is method-not-found, with no backend to ask');
      assert.equal(backend.calls.length, 0);
    } finally {
      disconnectAll();
      await ts.stop();
      await backend.close();
    }
  });
});

describe('backend proxy with emulated headers (the SDK\'s headers option)', () => {
  let backend: TestBackend;
  let ts: TestServer;
  /** Who the backend's connect says the client is: a user from the emulated device header, with no cookie needed. */
  const byDevice = (call: BackendCall): BackendAnswer =>
    call.path === '/connect' ? { result: { user: `device-${String(call.headers['x-device'] ?? 'none')}` } } : { result: {} };

  before(async () => {
    backend = await startBackend(byDevice);
    ts = await startTestServer({ file: proxyFile(backend) });
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
    await backend?.close();
  });

  const callOf = (path: string, client: string) => backend.callsTo(path).find((call) => call.body.client === client)!;

  test('HTTP-streaming: the configured emulated headers reach every call; a header only in proxyHttpHeaders (the cookie) or in no list does not', async () => {
    const made = makeClientAt([{ transport: 'http_stream', endpoint: httpUrl(ts.wsUrl, '/connection/http_stream') }], {
      emulationEndpoint: httpUrl(ts.wsUrl, '/emulation'),
      headers: { Cookie: COOKIE, 'X-App-Version': '3.0', 'X-Device': 'tab-7', 'X-Not-Forwarded': 'private' },
    });
    made.client.connect();
    const [connected] = await eventsOf(made, 'connected');
    assert.equal(connected.transport, 'http_stream');
    const call = callOf('/connect', connected.client);
    assert.equal(call.body.transport, 'http_stream');
    assert.equal(call.headers['x-app-version'], '3.0');
    assert.equal(call.headers['x-device'], 'tab-7');
    assert.equal(call.headers.cookie, undefined, 'a client-written cookie is not taken for the real one');
    assert.equal(call.headers['x-not-forwarded'], undefined, 'a header in no list is not forwarded');
    // Later commands come through /emulation, act as the backend's user and forward the same headers.
    await made.client.rpc('orders.list', {});
    const rpc = callOf('/rpc', connected.client);
    assert.equal(rpc.body.user, 'device-tab-7');
    assert.equal(rpc.headers['x-device'], 'tab-7');
  });

  test('WebSocket: a real header wins over an emulated one of the same name; a token connection forwards them too', async () => {
    const socket = withHeaders({ Cookie: COOKIE, 'X-App-Version': '2.1' });
    const made = await connectClient(ts.wsUrl, { websocket: socket, headers: { 'X-App-Version': '9.9', 'X-Device': 'phone-1' } });
    const call = callOf('/connect', made.clientId);
    assert.equal(call.headers['x-app-version'], '2.1', 'the handshake\'s header wins');
    assert.equal(call.headers['x-device'], 'phone-1');
    assert.equal(call.headers.cookie, COOKIE);

    const withToken = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'erin' }), headers: { 'x-device': 'desk-2' } });
    await withToken.client.rpc('orders.list', {});
    const rpc = callOf('/rpc', withToken.clientId);
    assert.equal(rpc.body.user, 'erin');
    assert.equal(rpc.headers['x-device'], 'desk-2');
  });

  test('bad headers are a bad request: too many, too large, or a value that would split the HTTP request', async () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x-h${i}`, 'v']));
    const cases: [string, Record<string, string>][] = [
      ['too many', many],
      ['too large', { 'x-device': 'x'.repeat(9000) }],
      ['a line feed', { 'x-device': 'a\r\nX-Injected: yes' }],
      ['a bad name', { 'x device': 'a' }],
      // Not sendable as an HTTP header byte string: refused at connect, not blamed on the backend later.
      ['a character outside ASCII', { 'x-device': 'caf\u00e9 \u20ac' }],
    ];
    const calls = backend.callsTo('/connect').length;
    for (const [name, headers] of cases) {
      const made = makeClient(ts.wsUrl, { headers });
      made.client.connect();
      const [disconnected] = await eventsOf(made, 'disconnected');
      assert.equal(disconnected.code, 3501, name);
    }
    assert.equal(backend.callsTo('/connect').length, calls, 'no call for a bad connect');
    assert.equal((await connectClient(ts.wsUrl, { headers: { 'x-device': 'fine' } })).client.state, 'connected', 'the server goes on');
  });

  test('Protobuf: the calls name protocol "protobuf" with encoding "json" (data stays JSON), and emulated headers arrive from the Protobuf connect', async () => {
    const made = makeClientAt(ts.wsUrl, { websocket: withHeaders({ Cookie: COOKIE }), headers: { 'X-Device': 'pb-3' }, data: { screen: 'small' } }, 'protobuf');
    made.client.connect();
    const [connected] = await eventsOf(made, 'connected');
    const call = callOf('/connect', connected.client);
    assert.equal(call.body.protocol, 'protobuf');
    assert.equal(call.body.encoding, 'json');
    assert.deepEqual(call.body.data, { screen: 'small' });
    assert.equal(call.body.b64data, undefined);
    assert.equal(call.headers['x-device'], 'pb-3');
    await made.client.rpc('orders.count', { n: 1 });
    const rpc = callOf('/rpc', connected.client);
    assert.equal(rpc.body.protocol, 'protobuf');
    assert.deepEqual(rpc.body.data, { n: 1 });
  });
});
