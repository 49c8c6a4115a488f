/**
 * Subscription types this server does not serve (map subscriptions and the
 * shared poll of newer SDKs, `type` ≠ 0) are refused with a reply error that
 * leaves the connection and its other subscriptions alone; the Protobuf
 * subprotocol is negotiated at the handshake, and a client offering only
 * subprotocols the server does not know gets JSON.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { commandAsker, connectRaw, type RawClient } from './helpers/raw-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('subscription types other than streams', () => {
  let t: TestServer;
  let client: RawClient;
  let ask: ReturnType<typeof commandAsker>;

  before(async () => {
    t = await startTestServer();
    client = await connectRaw(t.wsUrl, await mintToken({ sub: 'typed' }));
    ask = commandAsker(client);
    assert.ok((await ask('subscribe', { channel: 'room:typed-stream' })).subscribe);
  });
  after(async () => {
    client?.close();
    await t.stop();
  });


  /** The stream subscription still receives publications, so the connection and its subscriptions live on. */
  async function streamStillDelivers(n: number): Promise<void> {
    const channel = t.server.node.channels.resolve('room:typed-stream');
    await t.server.node.publish(channel, { data: JSON.stringify({ n }) });
    await waitFor(() => client.received.some((line) => line.push?.channel === 'room:typed-stream' && line.push.pub?.data?.n === n), {
      message: `publication ${n} on the stream subscription`,
    });
    assert.equal(client.closed, undefined, 'the connection stays open');
  }

  const refused = { code: 108 };

  test('subscribe of a map (type 1, 2, 3) or shared poll (type 4) is answered 108; the connection keeps working', async () => {
    for (const [n, type] of [1, 2, 3, 4].entries()) {
      const reply = await ask('subscribe', { channel: 'room:typed-map', type, phase: 0, flag: 1 });
      assert.equal(reply.error?.code, refused.code, `type ${type}: ${JSON.stringify(reply)}`);
      assert.match(reply.error.message, /not served/);
      await streamStillDelivers(n);
    }
    // Nothing was subscribed: a plain subscribe to the same channel succeeds (not 105 already subscribed).
    assert.ok((await ask('subscribe', { channel: 'room:typed-map' })).subscribe);
  });

  test('publish to a map key (type 1, with data or as a removal without data) is answered 108', async () => {
    const put = await ask('publish', { channel: 'room:typed-stream', type: 1, key: 'k', data: { v: 1 } });
    assert.equal(put.error?.code, refused.code);
    const removal = await ask('publish', { channel: 'room:typed-stream', type: 1, key: 'k', removed: true });
    assert.equal(removal.error?.code, refused.code, 'a removal carries no data and is still a reply error, not a close');
    await streamStillDelivers(100);
    // Nothing of them reached the stream.
    assert.ok(!client.received.some((line) => line.push?.pub?.data?.v === 1));
    // A plain publish still works.
    assert.deepEqual((await ask('publish', { channel: 'room:typed-stream', data: { v: 2 } })).publish, {});
  });

  test('shared poll track and untrack (sub_refresh of type 1 and 2, no token) are answered 108', async () => {
    const track = await ask('sub_refresh', { channel: 'room:typed-stream', type: 1, track: [{ signature: 's', items: [{ key: 'a' }] }] });
    assert.equal(track.error?.code, refused.code);
    const untrack = await ask('sub_refresh', { channel: 'room:typed-stream', type: 2, untrack: ['a'] });
    assert.equal(untrack.error?.code, refused.code);
    await streamStillDelivers(200);
  });

  test('type 0 is a stream, and a type that is not a non-negative integer is a malformed command (3501)', async () => {
    assert.ok((await ask('subscribe', { channel: 'room:typed-zero', type: 0 })).subscribe);
    const other = await connectRaw(t.wsUrl, await mintToken({ sub: 'typed-bad' }));
    other.command(2, 'subscribe', { channel: 'room:typed-bad', type: 'map' });
    assert.equal((await other.waitClose()).code, 3501);
  });
});

describe('the centrifuge-protobuf subprotocol', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());

  /** Opens a WebSocket offering `protocols`; resolves with the HTTP status and body of a refused handshake, or 101. */
  function handshake(protocols: string[]): Promise<{ status: number; body: string; protocol?: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(t.wsUrl, protocols);
      ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      ws.once('open', () => {
        resolve({ status: 101, body: '', protocol: ws.protocol });
        ws.terminate();
      });
      ws.once('error', (error) => {
        if (!/Unexpected server response/.test(error.message)) reject(error);
      });
    });
  }

  test('is chosen at the handshake when offered, first or among others', async () => {
    for (const offered of [['centrifuge-protobuf'], ['something-else', 'centrifuge-protobuf']]) {
      const answer = await handshake(offered);
      assert.equal(answer.status, 101, `offered ${offered.join(',')}`);
      assert.equal(answer.protocol, 'centrifuge-protobuf');
    }
  });

  test('a client offering only unknown subprotocols is accepted without one (the JSON protocol)', async () => {
    const url = new URL(t.wsUrl);
    const answer = await new Promise<{ status: number; protocol: string | undefined }>((resolve, reject) => {
      const request = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': Buffer.alloc(16, 7).toString('base64'),
          'Sec-WebSocket-Protocol': 'something-else, centrifuge-json',
        },
      });
      request.once('upgrade', (response, socket) => {
        resolve({ status: response.statusCode ?? 0, protocol: response.headers['sec-websocket-protocol'] });
        socket.destroy();
      });
      request.once('response', (response) => resolve({ status: response.statusCode ?? 0, protocol: undefined }));
      request.once('error', reject);
      request.end();
    });
    assert.deepEqual(answer, { status: 101, protocol: undefined });
  });

  test('a client offering no subprotocol (the JSON protocol) is accepted as before', async () => {
    const answer = await handshake([]);
    assert.equal(answer.status, 101);
    assert.equal(answer.protocol, '');
  });
});
