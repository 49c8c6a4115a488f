/**
 * Conformance with the real `centrifuge` SDK: history paging (limit, since,
 * reverse), the position-only query, and the errors for a bad position and a
 * channel without history.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Centrifuge, HistoryResult } from 'centrifuge';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { connectClient, disconnectAll, offsetsOf, range, rejection } from './helpers/sdk.js';

const CHANNEL = 'room:h';
const TOTAL = 25;

describe('sdk: history', () => {
  let ts: TestServer;
  let client: Centrifuge;
  let clientId: string;

  before(async () => {
    ts = await startTestServer();
    const connected = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'historian', info: { role: 'archivist' } }) });
    client = connected.client;
    clientId = connected.clientId;
    // Published without a subscription: history does not need one.
    for (let n = 1; n <= TOTAL; n++) await client.publish(CHANNEL, { n });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  function dataOf(result: HistoryResult): number[] {
    return result.publications.map((p) => (p.data as { n: number }).n);
  }

  test('limit returns the oldest page, with the stream top position', async () => {
    const page = await client.history(CHANNEL, { limit: 10 });
    assert.deepEqual(offsetsOf(page.publications), range(1, 10));
    assert.deepEqual(dataOf(page), range(1, 10));
    assert.equal(page.offset, TOTAL, 'offset is the stream top, not the page end');
    assert.equal(typeof page.epoch, 'string');
    assert.ok(page.epoch.length > 0);
    const first = page.publications[0];
    assert.ok(first);
    assert.equal(first.info?.user, 'historian');
    assert.equal(first.info?.client, clientId);
    assert.deepEqual(first.info?.connInfo, { role: 'archivist' });
  });

  test('since (offset + epoch of the previous page) pages forward to the end', async () => {
    const seen: number[] = [];
    let page = await client.history(CHANNEL, { limit: 10 });
    const epoch = page.epoch;
    seen.push(...offsetsOf(page.publications));
    const sizes = [page.publications.length];
    while (page.publications.length > 0) {
      const last = page.publications[page.publications.length - 1]!;
      page = await client.history(CHANNEL, { limit: 10, since: { offset: last.offset!, epoch } });
      assert.equal(page.epoch, epoch);
      assert.equal(page.offset, TOTAL);
      seen.push(...offsetsOf(page.publications));
      sizes.push(page.publications.length);
      assert.ok(sizes.length < 10, 'paging must end');
    }
    assert.deepEqual(sizes, [10, 10, 5, 0]);
    assert.deepEqual(seen, range(1, TOTAL));
  });

  test('since in the middle returns exactly the publications after it', async () => {
    const { epoch } = await client.history(CHANNEL);
    const page = await client.history(CHANNEL, { limit: 3, since: { offset: 17, epoch } });
    assert.deepEqual(offsetsOf(page.publications), [18, 19, 20]);
    assert.deepEqual(dataOf(page), [18, 19, 20]);
  });

  test('reverse: true returns newest first, and pages backwards with since', async () => {
    const newest = await client.history(CHANNEL, { limit: 5, reverse: true });
    assert.deepEqual(offsetsOf(newest.publications), [25, 24, 23, 22, 21]);
    assert.deepEqual(dataOf(newest), [25, 24, 23, 22, 21]);
    assert.equal(newest.offset, TOTAL);
    const older = await client.history(CHANNEL, {
      limit: 5,
      reverse: true,
      since: { offset: 21, epoch: newest.epoch },
    });
    assert.deepEqual(offsetsOf(older.publications), [20, 19, 18, 17, 16]);
    const all = await client.history(CHANNEL, { limit: 100, reverse: true });
    assert.deepEqual(offsetsOf(all.publications), range(1, TOTAL).reverse());
  });

  test('limit 0 (and no limit) returns only the position', async () => {
    const zero = await client.history(CHANNEL, { limit: 0 });
    assert.deepEqual(zero.publications, []);
    assert.equal(zero.offset, TOTAL);
    const none = await client.history(CHANNEL);
    assert.deepEqual(none.publications, []);
    assert.equal(none.offset, TOTAL);
    assert.equal(none.epoch, zero.epoch);
  });

  test('limit -1 returns everything retained', async () => {
    const all = await client.history(CHANNEL, { limit: -1 });
    assert.deepEqual(offsetsOf(all.publications), range(1, TOTAL));
  });

  test('since with a wrong epoch rejects with 112', async () => {
    const { epoch } = await client.history(CHANNEL);
    const wrong = epoch === 'zzzzzzzz' ? 'yyyyyyyy' : 'zzzzzzzz';
    const error = await rejection(client.history(CHANNEL, { limit: 10, since: { offset: 5, epoch: wrong } }));
    assert.equal(error.code, 112);
    // Reverse reads check the epoch too.
    const reverseError = await rejection(client.history(CHANNEL, { limit: 10, reverse: true, since: { offset: 5, epoch: wrong } }));
    assert.equal(reverseError.code, 112);
  });

  test('history of a channel without history (default namespace) rejects with 108', async () => {
    await client.publish('news', { headline: 'x' });
    const error = await rejection(client.history('news', { limit: 10 }));
    assert.equal(error.code, 108);
    const positionOnly = await rejection(client.history('news'));
    assert.equal(positionOnly.code, 108);
  });

  test('the connection survives the refused calls', async () => {
    assert.equal(client.state, 'connected');
    const page = await client.history(CHANNEL, { limit: 1 });
    assert.deepEqual(offsetsOf(page.publications), [1]);
  });
});
