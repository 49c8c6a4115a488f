/**
 * What the server does with input no SDK sends: malformed and oversized
 * frames, unknown commands, floods, silence and slow readers. The server must
 * answer with the protocol's codes and keep serving everyone else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectRaw, openRaw } from './helpers/raw-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { publishUntilSlowDrop, stopReading } from './helpers/slow-reader.js';
import { waitFor } from './helpers/wait.js';

async function stillServes(t: TestServer): Promise<void> {
  const client = await connectRaw(t.wsUrl, await mintToken({ sub: 'healthy' }));
  client.command(2, 'subscribe', { channel: 'room:health' });
  assert.ok((await client.reply(2)).subscribe, 'a fresh client can still subscribe');
  client.close();
}

describe('raw WebSocket input', () => {
  let t: TestServer;
  let token: string;

  before(async () => {
    t = await startTestServer({ flags: ['--max-message-size', '4096', '--connect-timeout', '1'] });
    token = await mintToken({ sub: 'raw' });
  });
  after(() => t.stop());

  test('connect and subscribes batched in one frame are answered in order, as text frames', async () => {
    const client = await openRaw(t.wsUrl);
    client.send(
      [
        JSON.stringify({ id: 1, connect: { token } }),
        JSON.stringify({ id: 2, subscribe: { channel: 'room:a' } }),
        '',
        JSON.stringify({ id: 3, subscribe: { channel: 'room:b' } }),
      ].join('\n'),
    );
    await client.reply(3);
    const ids = client.received.filter((line) => line.id !== undefined).map((line) => line.id);
    assert.deepEqual(ids, [1, 2, 3]);
    assert.equal(typeof client.received[0]?.connect.client, 'string');
    assert.deepEqual(client.received[1]?.subscribe, { recoverable: true, epoch: client.received[1]?.subscribe.epoch, offset: 0 });
    assert.equal(client.sawBinary, false);
    client.close();
  });

  test('malformed JSON closes with 3501 bad request and the server keeps serving', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.send('{"id":2,"subscribe":');
    assert.equal((await client.waitClose()).code, 3501);
    await stillServes(t);
  });

  test('a non-object command and a command without id close with 3501', async () => {
    for (const frame of ['[1,2,3]', '"hello"', JSON.stringify({ subscribe: { channel: 'room:a' } }), JSON.stringify({ id: -4, rpc: {} })]) {
      const client = await connectRaw(t.wsUrl, token);
      client.send(frame);
      assert.equal((await client.waitClose()).code, 3501, `frame ${frame}`);
    }
  });

  test('a command with wrongly typed fields closes with 3501', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'subscribe', { channel: 42 });
    assert.equal((await client.waitClose()).code, 3501);
  });

  test('an unknown method gets error 104 and the connection stays open', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'teleport', { to: 'mars' });
    assert.deepEqual((await client.reply(2)).error, { code: 104, message: 'method not found' });
    client.command(3, 'subscribe', { channel: 'room:after-unknown' });
    assert.ok((await client.reply(3)).subscribe);
    assert.equal(client.closed, undefined);
    client.close();
  });

  test('replies to commands of one event-loop turn leave as one frame', async () => {
    const client = await connectRaw(t.wsUrl, token);
    const framesBefore = client.linesPerFrame.length;
    client.send([2, 3, 4, 5].map((id) => JSON.stringify({ id, teleport: {} })).join('\n'));
    await client.reply(5);
    assert.deepEqual(client.received.slice(-4).map((line) => line.id), [2, 3, 4, 5]);
    assert.deepEqual(client.linesPerFrame.slice(framesBefore), [4]);
    client.close();
  });

  test('replies sent just before a disconnect arrive before the close frame', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.send([JSON.stringify({ id: 2, teleport: {} }), JSON.stringify({ id: 3, connect: { token } })].join('\n'));
    assert.equal((await client.waitClose()).code, 3501);
    assert.deepEqual(client.received.find((line) => line.id === 2)?.error, { code: 104, message: 'method not found' });
  });

  test('a command before connect closes with 3501', async () => {
    const client = await openRaw(t.wsUrl);
    client.command(1, 'subscribe', { channel: 'room:a' });
    assert.equal((await client.waitClose()).code, 3501);
  });

  test('connect sent twice closes with 3501', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'connect', { token });
    assert.equal((await client.waitClose()).code, 3501);
  });

  test('no connect in time closes with 3502 stale', async () => {
    const client = await openRaw(t.wsUrl);
    assert.equal((await client.waitClose(5000)).code, 3502);
  });

  test('an oversized message closes with 1009 and the server keeps serving', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'publish', { channel: 'room:big', data: { text: 'x'.repeat(8000) } });
    assert.equal((await client.waitClose()).code, 1009);
    await stillServes(t);
  });

  test('publish data and the reply: the publisher receives its own publication once', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'subscribe', { channel: 'room:echo' });
    await client.reply(2);
    client.command(3, 'publish', { channel: 'room:echo', data: { text: 'quote " and \\ and ünïcode ✓' } });
    assert.deepEqual((await client.reply(3)).publish, {});
    const pubs = await waitFor(() => {
      const found = client.received.filter((line) => line.push?.pub);
      return found.length > 0 && found;
    });
    assert.equal(pubs.length, 1);
    assert.deepEqual(pubs[0]?.push.pub.data, { text: 'quote " and \\ and ünïcode ✓' });
    assert.equal(pubs[0]?.push.pub.info.user, 'raw');
    assert.equal(pubs[0]?.push.pub.offset, 1);
    client.close();
  });

  test('publish without data is a bad request (3501), to an unknown namespace is 102', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'publish', { channel: 'nowhere:x', data: {} });
    assert.equal((await client.reply(2)).error.code, 102);
    client.command(3, 'publish', { channel: 'room:x' });
    assert.equal((await client.waitClose()).code, 3501);
  });

  test('subscribing twice gives 105, bad channel names give 107', async () => {
    const client = await connectRaw(t.wsUrl, token);
    client.command(2, 'subscribe', { channel: 'room:twice' });
    await client.reply(2);
    client.command(3, 'subscribe', { channel: 'room:twice' });
    assert.equal((await client.reply(3)).error.code, 105);
    client.command(4, 'subscribe', { channel: 'room:has space' });
    assert.equal((await client.reply(4)).error.code, 107);
    client.command(5, 'subscribe', { channel: `room:${'x'.repeat(300)}` });
    assert.equal((await client.reply(5)).error.code, 107);
    client.command(6, 'subscribe', { channel: 'dm:bob,alice' });
    assert.equal((await client.reply(6)).error.code, 102, 'dm member ids must be in ascending order');
    client.close();
  });
});

describe('origin check', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ flags: ['--allowed-origins', 'https://chat.example.com'] });
  });
  after(() => t.stop());

  test('a foreign origin is refused with 403; allowed, same-origin and no-origin clients connect', async () => {
    await assert.rejects(openRaw(t.wsUrl, { origin: 'https://evil.example' }), { status: 403 });
    const allowed = await openRaw(t.wsUrl, { origin: 'https://chat.example.com' });
    allowed.close();
    const sameOrigin = await openRaw(t.wsUrl, { origin: `http://127.0.0.1:${t.server.port}` });
    sameOrigin.close();
    const noOrigin = await openRaw(t.wsUrl);
    noOrigin.close();
    assert.ok(t.logs.some((line) => line.includes('origin not allowed')));
  });

  test('an unknown WebSocket path is refused with 404', async () => {
    await assert.rejects(openRaw(t.wsUrl.replace('/connection/websocket', '/nope')), { status: 404 });
  });
});

describe('heartbeat', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ flags: ['--ping-interval', '2', '--pong-timeout', '1'] });
  });
  after(() => t.stop());

  test('the server announces pings, a client that answers stays, one that does not is closed with 3012', async () => {
    const token = await mintToken({ sub: 'pinger' });
    const answering = await connectRaw(t.wsUrl, token);
    assert.equal(answering.received[0]?.connect.ping, 2);
    assert.equal(answering.received[0]?.connect.pong, true);
    answering.ws.on('message', (data: Buffer) => {
      if (data.toString() === '{}') answering.send('{}');
    });
    const silent = await connectRaw(t.wsUrl, token);
    assert.equal((await silent.waitClose(6000)).code, 3012);
    assert.ok(answering.received.filter((line) => Object.keys(line).length === 0).length >= 1, 'pings were received');
    assert.equal(answering.closed, undefined);
    answering.close();
  });
});

describe('rate limit', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ flags: ['--command-rate-limit', '5', '--command-burst', '5'] });
  });
  after(() => t.stop());

  test('commands over the burst get temporary error 111; a flood is disconnected with 3013', async () => {
    const token = await mintToken({ sub: 'flooder' });
    const client = await connectRaw(t.wsUrl, token);
    const frame = Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: 10 + i, presence_stats: { channel: 'room:r' } })).join('\n');
    client.send(frame);
    const last = await client.reply(17);
    assert.deepEqual(last.error, { code: 111, message: 'too many requests', temporary: true });
    client.send(Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: 100 + i, presence_stats: { channel: 'room:r' } })).join('\n'));
    assert.equal((await client.waitClose()).code, 3013);
  });

  test('commands of a subscription type that is not served count against the limit like any other', async () => {
    const client = await connectRaw(t.wsUrl, await mintToken({ sub: 'typed-flooder' }));
    const typed = (id: number) => JSON.stringify({ id, subscribe: { channel: 'room:r', type: 1 } });
    client.send(Array.from({ length: 8 }, (_, i) => typed(10 + i)).join('\n'));
    assert.equal((await client.reply(10)).error?.code, 108, 'within the burst: refused for its type');
    assert.equal((await client.reply(17)).error?.code, 111, 'over the burst: refused for the rate');
    client.send(Array.from({ length: 40 }, (_, i) => typed(100 + i)).join('\n'));
    assert.equal((await client.waitClose()).code, 3013);
  });
});

describe('slow consumer', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ flags: ['--max-queued-bytes', '262144', '--max-message-size', '65536'] });
  });
  after(() => t.stop());

  test('a client that stops reading is dropped with the slow code while others keep receiving', async () => {
    const slow = await connectRaw(t.wsUrl, await mintToken({ sub: 'slow' }));
    slow.command(2, 'subscribe', { channel: 'big' });
    await slow.reply(2);
    const fast = await connectRaw(t.wsUrl, await mintToken({ sub: 'fast' }));
    fast.command(2, 'subscribe', { channel: 'big' });
    await fast.reply(2);
    stopReading(slow);
    const sent = await publishUntilSlowDrop(t, 'big', JSON.stringify({ blob: 'y'.repeat(60_000) }));
    assert.ok(sent < 2000, 'dropped well before everything was queued');
    await waitFor(() => fast.received.filter((line) => line.push?.pub).length === sent, { timeoutMs: 10_000, message: `fast got ${fast.received.filter((line) => line.push?.pub).length} of ${sent}, closed ${JSON.stringify(fast.closed)}` });
    assert.equal(fast.closed, undefined);
    await waitFor(() => t.server.node.sessionCount === 1);
    fast.close();
    slow.close();
  });

  test('one reply larger than the queue limit reaches a client that reads (only what waits is limited)', async () => {
    const reader = await connectRaw(t.wsUrl, await mintToken({ sub: 'reader' }));
    const channel = t.server.node.channels.resolve('room:long-history');
    // Ten publications of ~60 KB: a history page of all of them is more than the 256 KiB queue limit.
    for (let i = 0; i < 10; i++) await t.server.node.publish(channel, { data: JSON.stringify({ i, blob: 'h'.repeat(60_000) }) });
    reader.command(2, 'history', { channel: 'room:long-history', limit: 10 });
    const reply = await reader.reply(2, 10_000);
    assert.equal(reply.history.publications.length, 10);
    assert.equal(reader.closed, undefined);
    assert.ok(!t.logs.some((line) => line.includes('slow client dropped') && line.includes('reader')));
    reader.close();
  });
});
