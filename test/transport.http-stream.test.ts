/**
 * The HTTP-streaming and SSE endpoints and the emulation endpoint on the
 * wire, with raw `fetch` requests: the response's headers and framing, the
 * connect reply naming the session and node, commands posted to
 * `/emulation` answered on the stream, the disconnect push that ends a
 * stream, and clear errors for bad input (malformed or oversized bodies,
 * unknown sessions, foreign origins) that leave the server serving.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import { apiResult } from './helpers/api.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { httpUrl } from './helpers/sdk-flavour.js';
import { disconnectAll, eventsOf, makeClientAt } from './helpers/sdk.js';
import { publishUntilSlowDrop } from './helpers/slow-reader.js';
import { waitFor } from './helpers/wait.js';
import { MAX_PENDING_FRAMES } from '../src/session/command-intake.js';
import { MAX_COMMANDS_IN_FLIGHT } from '../src/session/commands-in-flight.js';
import { MAX_WAITING_REQUESTS } from '../src/transport/http-stream-transport.js';

/** An open streaming response whose body is collected line by line. */
interface RawStream {
  response: Response;
  /** Lines of the body so far, without their line feeds. */
  lines: string[];
  /** Resolves when the body ends (or the request fails). */
  ended: Promise<void>;
  abort(): void;
}

async function openStream(url: string, init: RequestInit): Promise<RawStream> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const lines: string[] = [];
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of response.body) {
        rest += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n')) {
          lines.push(rest.slice(0, end));
          rest = rest.slice(end + 1);
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  return { response, lines, ended, abort: () => controller.abort() };
}

/** The JSON messages of a stream: every line over HTTP-streaming, the `data:` lines over SSE. */
function messagesOf(stream: RawStream): any[] {
  const sse = stream.response.headers.get('content-type')?.startsWith('text/event-stream');
  return stream.lines.filter((line) => (sse ? line.startsWith('data: ') : line !== '')).map((line) => JSON.parse(sse ? line.slice(6) : line));
}

async function nthMessage(stream: RawStream, index: number, what: string): Promise<any> {
  return waitFor(() => messagesOf(stream)[index], { message: what });
}

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: string }).error;
}

const connectCommand = (token: string) => JSON.stringify({ id: 1, connect: { token, name: 'raw' } });

describe('HTTP-streaming, SSE and emulation on the wire', () => {
  let ts: TestServer;
  let base: string;
  const streams: RawStream[] = [];

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const emulate = (request: unknown, headers: Record<string, string> = {}) => post('/emulation', JSON.stringify(request), headers);
  const stream = async (token: string) => {
    const opened = await openStream(`${base}/connection/http_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: connectCommand(token),
    });
    streams.push(opened);
    return opened;
  };

  before(async () => {
    ts = await startTestServer({ flags: ['--max-message-size', '4096'] });
    base = httpUrl(ts.wsUrl, '/').replace(/\/$/, '');
    ts.server.node.registerRpc('echo', (_context, data) => ({ echoed: data }));
  });
  after(async () => {
    disconnectAll();
    for (const opened of streams) opened.abort();
    await ts?.stop();
  });

  test('an HTTP stream answers connect with the session and node, takes commands through /emulation, and ends with a disconnect push', async () => {
    const opened = await stream(await mintToken({ sub: 'raw-alice' }));
    assert.equal(opened.response.status, 200);
    assert.match(opened.response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.equal(opened.response.headers.get('x-accel-buffering'), 'no');
    assert.match(opened.response.headers.get('cache-control') ?? '', /no-cache.*no-transform/);
    const connected = await nthMessage(opened, 0, 'the connect reply');
    assert.equal(connected.id, 1);
    assert.equal(typeof connected.connect.client, 'string');
    assert.equal(connected.connect.node, ts.server.node.id);
    assert.equal(typeof connected.connect.session, 'string');
    assert.notEqual(connected.connect.session, connected.connect.client, 'the session key is not the public client id');
    const { session, node } = connected.connect;

    const data = [JSON.stringify({ id: 2, rpc: { method: 'echo', data: { n: 1 } } }), JSON.stringify({ id: 3, rpc: { method: 'echo', data: { n: 2 } } })].join('\n');
    assert.equal((await emulate({ session, node, data })).status, 204);
    assert.deepEqual((await nthMessage(opened, 1, 'the first rpc reply')).rpc.data, { echoed: { n: 1 } });
    assert.deepEqual((await nthMessage(opened, 2, 'the second rpc reply')).rpc.data, { echoed: { n: 2 } });

    await apiResult(ts, 'disconnect', { user: 'raw-alice' });
    await opened.ended;
    const last = messagesOf(opened).at(-1);
    assert.deepEqual(last, { push: { disconnect: { code: 3503, reason: 'force disconnect' } } });
    assert.equal((await emulate({ session, node, data: '{}' })).status, 404, 'the session is gone with its stream');
    await waitFor(() => ts.server.node.stats().clients === 0, { message: 'nothing left of the session' });
  });

  test('a session working through many commands makes further emulation requests wait, then takes them: none is lost', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    ts.server.node.registerRpc('hold', async () => {
      await gate;
      return { held: true };
    });
    const opened = await stream(await mintToken({ sub: 'raw-busy' }));
    const { session, node } = (await nthMessage(opened, 0, 'the connect reply')).connect;
    const send = (id: number) => emulate({ session, node, data: JSON.stringify({ id, rpc: { method: 'hold', data: {} } }) }).then((response) => response.status);
    // Taken at once: the commands running (their slots full), the one waiting for a slot, and the frames
    // the session queues before it holds back; then requests wait for it, up to a bound.
    const takenAtOnce = MAX_COMMANDS_IN_FLIGHT + 1 + MAX_PENDING_FRAMES;
    const statuses = new Map<number, number>();
    // One more than may wait: whichever arrives last finds the waiting requests at their bound.
    const ids = Array.from({ length: takenAtOnce + MAX_WAITING_REQUESTS + 1 }, (_, i) => 100 + i);
    const answered = ids.map((id) => send(id).then((status) => void statuses.set(id, status)));
    const counted = (status: number) => [...statuses.values()].filter((value) => value === status).length;
    await waitFor(() => (statuses.size >= takenAtOnce + 1 ? true : undefined), { message: `${takenAtOnce} requests taken at once, one refused` });
    assert.equal(counted(204), takenAtOnce);
    // Past the bound of waiting requests one is refused, with a status the SDK acts on (it reconnects).
    assert.equal(counted(503), 1);
    assert.equal(statuses.size, takenAtOnce + 1, 'the rest wait for the session instead of being refused');
    release();
    await Promise.all(answered);
    assert.equal(counted(204), takenAtOnce + MAX_WAITING_REQUESTS, 'the waiting requests were taken once the session caught up');
    // Every command taken was answered on the stream: none was dropped.
    const taken = ids.filter((id) => statuses.get(id) === 204);
    await waitFor(() => (taken.every((id) => messagesOf(opened).some((message) => message.id === id && message.rpc?.data?.held)) ? true : undefined), {
      message: 'a reply to every command taken',
    });
  });

  test('a browser request made for another site without an Origin (an <img> or <script> load) opens no stream', async () => {
    const url = new URL(`${base}/connection/sse`);
    url.searchParams.set('cf_connect', connectCommand(await mintToken({ sub: 'raw-embedded' })));
    const before = ts.server.node.stats().clients;
    for (const site of ['cross-site', 'same-site']) {
      const refused = await fetch(url, { headers: { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' } });
      assert.equal(refused.status, 403, site);
      assert.equal(await errorOf(refused), 'origin not allowed');
    }
    assert.equal(ts.server.node.stats().clients, before, 'no session was made');
  });

  test('an SSE stream carries each message as an event and takes its connect command from cf_connect', async () => {
    const url = new URL(`${base}/connection/sse`);
    url.searchParams.set('cf_connect', connectCommand(await mintToken({ sub: 'raw-sse' })));
    const opened = await openStream(url.toString(), { headers: { accept: 'text/event-stream' } });
    streams.push(opened);
    assert.equal(opened.response.status, 200);
    assert.match(opened.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const connected = await nthMessage(opened, 0, 'the connect reply');
    const { session, node } = connected.connect;
    assert.equal((await emulate({ session, node, data: JSON.stringify({ id: 2, rpc: { method: 'echo', data: 'sse' } }) })).status, 204);
    assert.deepEqual((await nthMessage(opened, 1, 'the rpc reply')).rpc.data, { echoed: 'sse' });
    opened.abort();
    await waitFor(async () => (await emulate({ session, node, data: '{}' })).status === 404, { message: 'the session to go with the aborted stream' });
  });

  test('a stream whose connect command is not valid ends with a bad request disconnect', async () => {
    const opened = await openStream(`${base}/connection/http_stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'not json' });
    await opened.ended;
    assert.equal(messagesOf(opened).at(-1).push.disconnect.code, 3501);
  });

  test('bad input gets clear errors and the server keeps serving', async () => {
    const malformed = await post('/emulation', '{"session":');
    assert.equal(malformed.status, 400);
    assert.match((await errorOf(malformed)), /JSON object \{session, node, data\}/);
    const missing = await emulate({ node: ts.server.node.id, data: '{}' });
    assert.equal(missing.status, 400);
    assert.match((await errorOf(missing)), /session/);
    const unknown = await emulate({ session: 'no-such-session', node: ts.server.node.id, data: '{}' });
    assert.equal(unknown.status, 404);
    assert.match((await errorOf(unknown)), /unknown session/);
    assert.equal((await emulate({ session: 'no-such-session', node: 'no-such-node', data: '{}' })).status, 404);

    const huge = 'x'.repeat(3 * 4096);
    assert.equal((await emulate({ session: 's', node: 'n', data: huge })).status, 413, 'a body past the limit');
    assert.equal((await emulate({ session: 's', node: 'n', data: '"'.repeat(4097) })).status, 413, 'commands past the message size');
    assert.equal((await post('/connection/http_stream', huge)).status, 413, 'a connect command past the message size');
    assert.equal((await fetch(`${base}/connection/sse`)).status, 400, 'SSE without cf_connect');

    const foreign = { origin: 'https://elsewhere.example' };
    assert.equal((await post('/connection/http_stream', connectCommand('t'), foreign)).status, 403);
    assert.equal((await emulate({ session: 's', node: 'n', data: '{}' }, foreign)).status, 403);
    const sse = new URL(`${base}/connection/sse`);
    sse.searchParams.set('cf_connect', connectCommand('t'));
    assert.equal((await fetch(sse, { headers: foreign })).status, 403);
    const preflight = (origin: string) =>
      fetch(`${base}/emulation`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    assert.equal((await preflight(foreign.origin)).status, 403);

    const own = new URL(base).origin;
    const allowed = await preflight(own);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), own);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), null, 'no credentials across origins');
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);

    assert.equal((await fetch(`${base}/health`)).status, 200);
    const after = await stream(await mintToken({ sub: 'raw-after' }));
    assert.equal(typeof (await nthMessage(after, 0, 'a connect after the bad input')).connect.session, 'string');
    after.abort();
  });

  test('the SDK over HTTP-streaming reconnects after the server restarts (shutdown, 3001)', async () => {
    const made = makeClientAt([{ transport: 'http_stream', endpoint: `${base}/connection/http_stream` }], {
      emulationEndpoint: `${base}/emulation`,
      token: await mintToken({ sub: 'raw-restart' }),
    });
    made.client.connect();
    await eventsOf(made, 'connected');
    ts = await ts.restart();
    ts.server.node.registerRpc('echo', (_context, data) => ({ echoed: data }));
    const [connecting] = (await eventsOf(made, 'connecting', 1)).slice(-1);
    assert.equal(connecting.code, 3001);
    await eventsOf(made, 'connected', 2, 10_000);
    assert.deepEqual((await made.client.rpc('echo', 'back')).data, { echoed: 'back' });
  });

  test('the SDK over SSE stops after a 3500-range disconnect push', async () => {
    const made = makeClientAt([{ transport: 'sse', endpoint: `${base}/connection/sse` }], {
      emulationEndpoint: `${base}/emulation`,
      eventsource: EventSource,
      token: await mintToken({ sub: 'raw-final' }),
    });
    const { client, of } = made;
    client.connect();
    assert.equal((await eventsOf(made, 'connected'))[0].transport, 'sse');
    await apiResult(ts, 'disconnect', { user: 'raw-final', disconnect: { code: 3599, reason: 'go away' } });
    const [disconnected] = await eventsOf({ of }, 'disconnected');
    assert.deepEqual([disconnected.code, disconnected.reason], [3599, 'go away']);
    assert.equal(client.state, 'disconnected');
  });
});

describe('HTTP streams: pings answered through /emulation, and the slow-reader rule', () => {
  let ts: TestServer;
  let base: string;

  before(async () => {
    ts = await startTestServer({ flags: ['--ping-interval', '1s', '--pong-timeout', '0.5s', '--max-queued-bytes', '262144'] });
    base = httpUrl(ts.wsUrl, '/').replace(/\/$/, '');
  });
  after(async () => {
    await ts?.stop();
  });

  const open = async (sub: string) =>
    openStream(`${base}/connection/http_stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: connectCommand(await mintToken({ sub })) });

  test('a stream that answers every ping through /emulation stays open; one that does not ends with 3012', async () => {
    const [answering, silent] = [await open('pinged'), await open('silent')];
    const { session, node } = (await nthMessage(answering, 0, 'the connect reply')).connect;
    await nthMessage(silent, 0, 'the other connect reply');
    let answered = 0;
    await waitFor(async () => {
      const pings = messagesOf(answering).filter((message) => Object.keys(message).length === 0).length;
      for (; answered < pings; answered++) assert.equal((await fetch(`${base}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session, node, data: '{}' }) })).status, 204);
      return answered >= 3;
    }, { timeoutMs: 10_000, message: 'three pings answered' });
    await silent.ended;
    assert.deepEqual(messagesOf(silent).at(-1), { push: { disconnect: { code: 3012, reason: 'no pong' } } });
    assert.equal(messagesOf(answering).filter((message) => message.push?.disconnect).length, 0, 'the answering stream was not closed');
    answering.abort();
  });

  test('an HTTP/1.0 request gets the body unchunked, ended by closing the connection', async () => {
    const socket = connect(ts.server.port, '127.0.0.1');
    const body = connectCommand(await mintToken({ sub: 'old-client' }));
    socket.write(`POST /connection/http_stream HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    await waitFor(() => received.includes('"connect":'), { message: 'the connect reply' });
    const [head, rest] = received.split('\r\n\r\n') as [string, string];
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.equal(JSON.parse(rest.split('\n')[0]!).id, 1, 'the body starts with the reply itself, no chunk size');
    socket.destroy();
  });

  test('a client that stops reading its stream is dropped as slow, and its session goes', async () => {
    const token = await mintToken({ sub: 'stalled', channels: ['big-stream'] });
    const socket = connect(ts.server.port, '127.0.0.1');
    const body = connectCommand(token);
    socket.write(`POST /connection/http_stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    await waitFor(() => received.includes('"connect":'), { message: 'the connect reply' });
    socket.pause();
    const reader = await open('reader');
    await nthMessage(reader, 0, 'the reader connect reply');
    const sent = await publishUntilSlowDrop(ts, 'big-stream', JSON.stringify({ blob: 'y'.repeat(60_000) }));
    assert.ok(sent < 2000, 'dropped well before everything was queued');
    await waitFor(() => ts.server.node.sessionCount === 1, { timeoutMs: 10_000, message: 'only the reader left' });
    socket.destroy();
    reader.abort();
  });
});
