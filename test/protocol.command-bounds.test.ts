/**
 * What one connection may make the server hold and do at once, spoken over
 * raw WebSockets: commands running side by side are bounded, server API
 * changes do not wait for a client that does not read, and the pong deadline
 * counts from when the ping left, not from when it was queued behind a
 * large reply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_COMMANDS_IN_FLIGHT } from '../src/session/commands-in-flight.js';
import { answerPings, connectRaw } from './helpers/raw-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { readSlowly, stopReading } from './helpers/slow-reader.js';
import { waitFor } from './helpers/wait.js';

/** A gate that handlers wait on until the test opens it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const rpcFrame = (method: string, ids: readonly number[]) =>
  ids.map((id) => JSON.stringify({ id, rpc: { method, data: { id } } })).join('\n');

describe('commands running side by side', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ flags: ['--max-queued-bytes', '262144'] });
  });
  after(() => t.stop());

  test(`at most ${MAX_COMMANDS_IN_FLIGHT} run at once however many one frame brings; a reading client gets every reply`, async () => {
    // ~400 KB per reply: a 100-message history page of 4,000-character messages.
    const reply = 'h'.repeat(400_000);
    const opened = gate();
    let started = 0;
    let running = 0;
    let mostRunning = 0;
    t.server.node.registerRpc('gated-page', async () => {
      started++;
      mostRunning = Math.max(mostRunning, ++running);
      await opened.wait;
      running--;
      return { page: reply };
    });
    const client = await connectRaw(t.wsUrl, await mintToken({ sub: 'many-rpcs' }));
    stopReading(client);
    // 200 commands in one 12 KB frame: all within the rate limiter's burst.
    const ids = Array.from({ length: 200 }, (_, i) => 10 + i);
    client.send(rpcFrame('gated-page', ids));
    await waitFor(() => started >= MAX_COMMANDS_IN_FLIGHT, { message: 'the first commands started' });
    assert.equal(started, MAX_COMMANDS_IN_FLIGHT, 'the rest wait for one of those to answer');

    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    opened.open();
    await waitFor(() => ids.every((id) => client.received.some((line) => line.id === id)), { timeoutMs: 60_000, message: 'every reply' });
    assert.ok(client.received.filter((line) => line.id >= 10).every((line) => line.rpc?.data?.page?.length === 400_000), 'each reply whole');
    assert.equal(started, 200);
    assert.ok(mostRunning <= MAX_COMMANDS_IN_FLIGHT, `${mostRunning} ran at once`);
    assert.equal(client.closed, undefined);
    client.close();
  });

  test('a server API subscribe and unsubscribe do not wait for a client that does not read its replies', async () => {
    // One reply far larger than the kernel's socket buffers: it stays unread, and the client's next command waits for room.
    const huge = 'u'.repeat(32 * 1024 * 1024);
    const answered = gate();
    t.server.node.registerRpc('huge', async () => {
      answered.open();
      return { blob: huge };
    });
    const client = await connectRaw(t.wsUrl, await mintToken({ sub: 'unread' }));
    stopReading(client);
    client.send(JSON.stringify({ id: 10, rpc: { method: 'huge' } }));
    await answered.wait;
    client.send(JSON.stringify({ id: 11, presence_stats: { channel: 'room:unread' } }));

    const channel = t.server.node.channels.resolve('room:by-server');
    let subscribed: number | undefined;
    let unsubscribed: number | undefined;
    void t.server.node.subscribeUser('unread', channel, {}).then((n) => (subscribed = n));
    await waitFor(() => subscribed, { timeoutMs: 10_000, message: 'the server API subscribe' });
    assert.equal(subscribed, 1);
    void t.server.node.unsubscribeUser('unread', 'room:by-server').then((n) => (unsubscribed = n));
    await waitFor(() => unsubscribed !== undefined, { timeoutMs: 10_000, message: 'the server API unsubscribe' });
    assert.equal(unsubscribed, 1);
    assert.ok(!t.logs.some((line) => line.includes('slow client dropped')), 'its pushes are a few bytes: not slow');
    client.close();
  });
});

describe('heartbeat behind a large reply', () => {
  let t: TestServer;
  let epoch = '';
  /**
   * 200 publications of 160 KB: a 32 MB recovery, far larger than what the
   * kernel buffers for a socket (a few MB on loopback), read at a few MB/s:
   * longer than a ping interval and a pong timeout, while what the kernel
   * holds drains well within the pong timeout.
   */
  const COUNT = 200;
  before(async () => {
    t = await startTestServer({ flags: ['--ping-interval', '5', '--pong-timeout', '4', '--recovery-max-bytes', '40000000'] });
    const channel = t.server.node.channels.resolve('room:big-recovery');
    for (let n = 1; n <= COUNT; n++) epoch = (await t.server.node.publish(channel, { data: JSON.stringify({ n, body: 'r'.repeat(160_000) }) })).epoch ?? '';
  });
  after(() => t.stop());

  test('a client reading a large recovery slowly keeps answering pings and is not closed for a missing pong', async () => {
    const client = await connectRaw(t.wsUrl, await mintToken({ sub: 'slow-link' }));
    const pings = answerPings(client);
    const readNormally = readSlowly(client, 20);
    client.command(2, 'subscribe', { channel: 'room:big-recovery', recover: true, offset: 0, epoch });
    const reply = await client.reply(2, 60_000);
    readNormally();
    assert.equal(reply.subscribe.recovered, true);
    assert.equal(reply.subscribe.publications.length, COUNT);
    // The pings queued behind the reply arrive after it, and are answered.
    const pingsAtReply = pings.pings;
    await waitFor(() => pings.pings > pingsAtReply, { timeoutMs: 15_000, message: 'a ping after the recovery' });
    assert.equal(client.closed, undefined, `closed: ${JSON.stringify(client.closed)}`);
    assert.ok(!t.logs.some((line) => line.includes('"no pong"')), 'never closed for a missing pong');
    client.close();
  });

  test('a client that stops reading behind a large recovery is still closed for the missing pong', async () => {
    const client = await connectRaw(t.wsUrl, await mintToken({ sub: 'gone-quiet' }));
    answerPings(client);
    stopReading(client);
    client.command(2, 'subscribe', { channel: 'room:big-recovery', recover: true, offset: 0, epoch });
    await waitFor(() => t.logs.some((line) => line.includes('"no pong"') && line.includes('gone-quiet')), {
      timeoutMs: 20_000,
      message: 'closed for the missing pong',
    });
    client.close();
  });
});
