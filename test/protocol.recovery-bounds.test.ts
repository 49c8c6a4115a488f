/**
 * The recovery bound (count and bytes), the `rejectUnrecovered` subscribe
 * flag, the history page byte cap, and replies that are larger than the
 * connection's queue bound, spoken by hand over a raw WebSocket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { commandAsker, connectRaw, openRaw, type RawClient } from './helpers/raw-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { publishUntilSlowDrop, stopReading } from './helpers/slow-reader.js';
import { SlowRecoveryStore } from './helpers/slow-store.js';
import { waitFor } from './helpers/wait.js';

/** A payload whose JSON text has the same length for every n below 1000. */
const fixedSize = (n: number) => JSON.stringify({ n: String(n).padStart(3, '0'), body: 'x'.repeat(1000) });
const WEIGHT = Buffer.byteLength(fixedSize(1));
const MAX_PUBLICATIONS = 20;
const MAX_BYTES = WEIGHT * 10;
const REJECT_UNRECOVERED = 2;

describe('recovery bound and rejectUnrecovered', () => {
  let t: TestServer;
  let client: RawClient;
  let ask: ReturnType<typeof commandAsker>;

  before(async () => {
    t = await startTestServer({
      flags: ['--recovery-max-publications', String(MAX_PUBLICATIONS), '--recovery-max-bytes', String(MAX_BYTES)],
    });
    client = await connectRaw(t.wsUrl, await mintToken({ sub: 'bounds' }));
    ask = commandAsker(client);
  });
  after(async () => {
    client?.close();
    await t.stop();
  });


  /** Publishes `count` payloads to a fresh channel; resolves with its epoch. */
  async function publish(name: string, count: number, data: (n: number) => string): Promise<string> {
    const channel = t.server.node.channels.resolve(name);
    let epoch = '';
    for (let n = 1; n <= count; n++) epoch = (await t.server.node.publish(channel, { data: data(n) })).epoch ?? '';
    return epoch;
  }

  const tiny = (n: number) => JSON.stringify({ n });

  test('count bound: exactly recoveryMaxPublications missed are recovered; one more is recovered:false with none', async () => {
    const epochAt = await publish('room:count-at', MAX_PUBLICATIONS, tiny);
    const at = (await ask('subscribe', { channel: 'room:count-at', recover: true, offset: 0, epoch: epochAt })).subscribe;
    assert.equal(at.recovered, true);
    assert.equal(at.publications.length, MAX_PUBLICATIONS);
    assert.deepEqual(at.publications.map((p: any) => p.offset), Array.from({ length: MAX_PUBLICATIONS }, (_, i) => i + 1));

    const epochPast = await publish('room:count-past', MAX_PUBLICATIONS + 1, tiny);
    const past = (await ask('subscribe', { channel: 'room:count-past', recover: true, offset: 0, epoch: epochPast })).subscribe;
    assert.equal(past.was_recovering, true);
    assert.equal(past.recovered, false);
    assert.equal(past.publications, undefined, 'none, never a partial list');
    assert.equal(past.offset, MAX_PUBLICATIONS + 1, 'the current top');
  });

  test('byte bound: missed publications weighing exactly recoveryMaxBytes are recovered; one more is recovered:false', async () => {
    const epochAt = await publish('room:bytes-at', 10, fixedSize);
    const at = (await ask('subscribe', { channel: 'room:bytes-at', recover: true, offset: 0, epoch: epochAt })).subscribe;
    assert.equal(at.recovered, true);
    assert.equal(at.publications.length, 10);

    const epochPast = await publish('room:bytes-past', 11, fixedSize);
    // From offset 1: ten missed fit, so recovery works from there …
    const fromOne = await connectRaw(t.wsUrl, await mintToken({ sub: 'bounds-2' }));
    fromOne.command(2, 'subscribe', { channel: 'room:bytes-past', recover: true, offset: 1, epoch: epochPast });
    assert.equal((await fromOne.reply(2)).subscribe.recovered, true);
    fromOne.close();
    // … and from 0 eleven do not.
    const past = (await ask('subscribe', { channel: 'room:bytes-past', recover: true, offset: 0, epoch: epochPast })).subscribe;
    assert.equal(past.recovered, false);
    assert.equal(past.publications, undefined);
  });

  test('server-side subscriptions recovered in one connect reply share one byte bound', async () => {
    const epochA = await publish('room:token-a', 6, fixedSize);
    const epochB = await publish('room:token-b', 6, fixedSize);
    const token = await mintToken({ sub: 'token-subs', channels: ['room:token-a', 'room:token-b'] });
    const other = await openRaw(t.wsUrl);
    other.command(1, 'connect', {
      token,
      subs: { 'room:token-a': { recover: true, offset: 0, epoch: epochA }, 'room:token-b': { recover: true, offset: 0, epoch: epochB } },
    });
    const subs = (await other.reply(1)).connect.subs;
    // Six fit the bound of ten; the next six do not fit what is left of it.
    assert.equal(subs['room:token-a'].recovered, true);
    assert.equal(subs['room:token-a'].publications.length, 6);
    assert.equal(subs['room:token-b'].recovered, false);
    assert.equal(subs['room:token-b'].publications, undefined);
    other.close();
  });

  test('rejectUnrecovered flag: error 112 and not subscribed when recovery is impossible; a normal reply when it works', async () => {
    const epoch = await publish('room:reject', MAX_PUBLICATIONS + 5, tiny);
    const refused = await ask('subscribe', { channel: 'room:reject', recover: true, offset: 0, epoch, flag: 1 | REJECT_UNRECOVERED });
    assert.equal(refused.error?.code, 112);
    // Not subscribed: a publication does not reach the client, and subscribing again is not "already subscribed".
    await publish('room:reject', 1, () => JSON.stringify({ after: 'refusal' }));
    const again = await ask('subscribe', { channel: 'room:reject', recover: true, offset: MAX_PUBLICATIONS + 6, epoch, flag: 1 | REJECT_UNRECOVERED });
    assert.equal(again.subscribe?.recovered, true, 'from a position that can be recovered, the flag changes nothing');
    assert.ok(!client.received.some((line) => line.push?.pub?.data?.after === 'refusal'), 'nothing was delivered while not subscribed');

    // Another epoch is unrecoverable too.
    const otherEpoch = await ask('subscribe', { channel: 'room:reject-epoch', recover: true, offset: 3, epoch: 'not-this-one', flag: REJECT_UNRECOVERED });
    assert.equal(otherEpoch.error?.code, 112);
  });

  test('rejectUnrecovered on a channel without recovery is a plain subscribe (the SDK would otherwise loop)', async () => {
    const plain = (await ask('subscribe', { channel: 'no-history', recover: true, offset: 5, epoch: 'e', flag: REJECT_UNRECOVERED })).subscribe;
    assert.ok(plain, 'subscribed');
    assert.equal(plain.recoverable, undefined);
  });
});

describe('replies larger than the queue bound', () => {
  let t: TestServer;
  before(async () => {
    // A 256 KiB queue bound, a 310 KB history page cap.
    t = await startTestServer({ flags: ['--max-queued-bytes', '262144', '--history-max-bytes', '310000'] });
  });
  after(() => t.stop());

  test('a history page stops at historyMaxBytes, and the client pages on from where it stopped', async () => {
    const reader = await connectRaw(t.wsUrl, await mintToken({ sub: 'pager' }));
    const channel = t.server.node.channels.resolve('room:paged');
    // 20 publications of ~60 KB: 1.2 MB in all, five per 310 KB page.
    for (let i = 1; i <= 20; i++) await t.server.node.publish(channel, { data: JSON.stringify({ i, blob: 'p'.repeat(60_000) }) });
    const seen: number[] = [];
    let since = 0;
    for (let id = 2; seen.length < 20 && id < 20; id++) {
      reader.command(id, 'history', { channel: 'room:paged', limit: 100, since: { offset: since } });
      const page = (await reader.reply(id, 10_000)).history.publications as { offset: number }[];
      assert.ok(page.length > 0 && page.length <= 5, `a page of ${page.length} stays within 310 KB`);
      seen.push(...page.map((p) => p.offset));
      since = page.at(-1)!.offset;
    }
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(reader.closed, undefined);
    reader.close();
  });

  /**
   * A client of `user` subscribed to `liveChannel` that stops reading, then
   * asks in one frame for ten pages of ~300 KB (of room:paged, published by
   * the first test): 3 MB of replies against the 256 KiB bound, ids 10–19.
   */
  async function pagesAskedWithoutReading(user: string, liveChannel: string): Promise<RawClient> {
    const client = await connectRaw(t.wsUrl, await mintToken({ sub: user }));
    client.command(2, 'subscribe', { channel: liveChannel });
    await client.reply(2);
    stopReading(client);
    client.send(Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: 10 + i, history: { channel: 'room:paged', limit: 5 } })).join('\n'));
    return client;
  }

  test('a client that stops reading with many large pages asked for is not dropped, and gets them all once it reads again', async () => {
    const reader = await pagesAskedWithoutReading('pauser', 'room:pauser-live');
    // A few small live publications meanwhile.
    const live = t.server.node.channels.resolve('room:pauser-live');
    for (let n = 1; n <= 5; n++) await t.server.node.publish(live, { data: JSON.stringify({ n }) });
    (reader.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    for (let i = 0; i < 10; i++) assert.equal((await reader.reply(10 + i, 20_000)).history.publications.length, 5);
    await waitFor(() => reader.received.filter((line) => line.push?.channel === 'room:pauser-live' && line.push.pub).length === 5, { message: 'live pushes too' });
    assert.equal(reader.closed, undefined, 'never closed');
    assert.ok(!t.logs.some((line) => line.includes('slow client dropped')));
    reader.close();
  });

  test('a client that stops reading for good is still dropped as slow once pushes pile up behind its replies', async () => {
    const stalled = await pagesAskedWithoutReading('stalled', 'room:stalled-live');
    // Pushes pile up behind the large replies, never read.
    const published = await publishUntilSlowDrop(t, 'room:stalled-live', JSON.stringify({ blob: 'z'.repeat(30_000) }));
    assert.ok(published < 1000, `dropped after ${published} publications, well before all were queued`);
    stalled.close();
  });
});

describe('events held while a connection subscribes to many channels at once', () => {
  const store = new SlowRecoveryStore();
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ parts: { store } });
  });
  after(() => t.stop());

  test('a token\'s channels share one hold budget: past half the queue bound the connection is made to recover (3010), never closed as slow', async () => {
    // Ten channels each receive 200 KB while the eleventh's recovery is read: within what one subscription
    // could hold alone (512 KiB), together twice the 1 MiB queue bound.
    const quiet = Array.from({ length: 10 }, (_, i) => `room:held-${i}`);
    const slow = t.server.node.channels.resolve('room:held-slow');
    const epoch = (await t.server.node.publish(slow, { data: JSON.stringify({ first: true }) })).epoch;
    const token = await mintToken({ sub: 'many-channels', channels: [...quiet, 'room:held-slow'] });
    const client = await openRaw(t.wsUrl);
    const held = store.holdNextRecovery();
    client.command(1, 'connect', { token, subs: { 'room:held-slow': { recover: true, offset: 0, epoch } } });
    const release = await held;
    const payload = JSON.stringify({ body: 'q'.repeat(100_000) });
    for (const name of quiet) {
      const channel = t.server.node.channels.resolve(name);
      for (let n = 0; n < 2; n++) await t.server.node.publish(channel, { data: payload });
    }
    release();
    assert.ok((await client.reply(1)).connect, 'connected');
    assert.equal((await client.waitClose()).code, 3010, 'insufficient state: the client reconnects and recovers');
    assert.ok(!t.logs.some((line) => line.includes('slow client dropped')), 'not closed as slow');
  });
});
