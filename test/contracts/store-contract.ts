import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Publication, PublishRequest } from '../../src/protocol/types.js';
import { UnrecoverablePositionError, type HistoryQuery, type Retention, type Store } from '../../src/store/store.js';

/** What a contract run needs from an implementation. */
export interface StoreFixture {
  /** A store on fresh, empty storage, not opened yet. */
  store: Store;
  /** A new, not yet opened store on the same storage (called after the previous one is closed); omit if not durable. */
  reopen?: () => Promise<Store>;
  /** Removes the storage; called after every store of the fixture is closed. */
  cleanup: () => Promise<void>;
}

/** A running test's store; `reopen` closes it and swaps in a store on the same storage. */
interface Ctx {
  readonly store: Store;
  reopen(): Promise<Store>;
}

const KEEP: Retention = { size: 1000, ttlMs: 0 };
const SHORT_TTL_MS = 50;
const WAIT_DEADLINE_MS = 3000;

const msg = (n: number | string): PublishRequest => ({ data: JSON.stringify({ n }) });
const offsets = (pubs: Publication[]): number[] => pubs.map((p) => p.offset ?? -1);
const all: HistoryQuery = { limit: -1 };

/** Polls `cond` until it holds; fails the test past a deadline instead of sleeping a fixed time. */
async function waitFor(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function appendMany(store: Store, channel: string, count: number, retention = KEEP): Promise<Publication[]> {
  const out: Publication[] = [];
  for (let i = 1; i <= count; i++) out.push(...(await store.append(channel, [msg(i)], retention)));
  return out;
}

/**
 * Registers a `describe` block checking every guarantee documented on
 * {@link Store}. Each test gets its own fixture from `makeStore`; the
 * durability tests are skipped when the fixture has no `reopen`.
 */
export function runStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  const run =
    (fn: (ctx: Ctx) => Promise<void>, needsReopen = false) =>
    async (t: TestContext): Promise<void> => {
      const fixture = await makeStore();
      const { reopen } = fixture;
      if (needsReopen && !reopen) {
        await fixture.cleanup();
        t.skip('store is not durable (no reopen)');
        return;
      }
      let store = fixture.store;
      await store.open();
      const ctx: Ctx = {
        get store() {
          return store;
        },
        async reopen() {
          await store.close();
          store = await reopen!();
          await store.open();
          return store;
        },
      };
      try {
        await fn(ctx);
      } finally {
        try {
          await store.close();
        } finally {
          await fixture.cleanup();
        }
      }
    };

  describe(`Store contract: ${name}`, () => {
    describe('positions', () => {
      it('starts a new channel at offset 0 with a non-empty epoch that stays the same', run(async ({ store }) => {
        const first = await store.position('fresh');
        assert.equal(first.offset, 0);
        assert.equal(typeof first.epoch, 'string');
        assert.ok(first.epoch.length > 0);
        assert.deepEqual(await store.position('fresh'), first);
        const page = await store.read('never-written', all);
        assert.deepEqual(page.publications, []);
        assert.equal(page.position.offset, 0);
        assert.ok(page.position.epoch.length > 0);
        assert.deepEqual(await store.position('never-written'), page.position);
      }));

      it('numbers offsets from 1 up by exactly 1 and returns publications as sent', run(async ({ store }) => {
        const before = Date.now();
        const tagged: PublishRequest = {
          data: '{"text":"hi"}',
          info: { user: 'u1', client: 'c1', conn_info: { name: 'Ann' } },
          tags: { kind: 'greeting' },
        };
        const [one, ...rest] = [
          ...(await store.append('ch', [tagged], KEEP)),
          ...(await store.append('ch', [msg(2), msg(3), msg(4)], KEEP)),
        ];
        const after = Date.now();
        assert.ok(one);
        assert.deepEqual(offsets([one, ...rest]), [1, 2, 3, 4]);
        const pos = await store.position('ch');
        assert.deepEqual(pos, { offset: 4, epoch: one.epoch });
        assert.equal(one.data, tagged.data);
        assert.deepEqual(one.info, tagged.info);
        assert.deepEqual(one.tags, tagged.tags);
        assert.deepEqual(rest.map((p) => p.data), [msg(2).data, msg(3).data, msg(4).data]);
        for (const p of [one, ...rest]) {
          assert.equal(p.epoch, pos.epoch);
          assert.ok(typeof p.time === 'number' && p.time >= before && p.time <= after, `time ${p.time}`);
        }
        assert.deepEqual((await store.read('ch', all)).publications, [one, ...rest]);
      }));

      it('gives appends in flight at once consecutive offsets in call order', run(async ({ store }) => {
        const channels = ['a', 'b', 'c', 'd', 'e'];
        const next = new Map(channels.map((c) => [c, 1]));
        const sent = new Map<string, string[]>(channels.map((c) => [c, []]));
        const calls: { channel: string; first: number; count: number; promise: Promise<Publication[]> }[] = [];
        for (let i = 0; i < 200; i++) {
          const channel = channels[(i * 7) % channels.length]!;
          const batch = Array.from({ length: 1 + (i % 3) }, (_, k) => msg(`${i}.${k}`));
          sent.get(channel)!.push(...batch.map((m) => m.data));
          const first = next.get(channel)!;
          next.set(channel, first + batch.length);
          calls.push({ channel, first, count: batch.length, promise: store.append(channel, batch, KEEP) });
        }
        const settled: number[] = [];
        calls.forEach((c, i) => void c.promise.then(() => settled.push(i)));
        const results = await Promise.all(calls.map((c) => c.promise));
        assert.deepEqual(settled, calls.map((_, i) => i), 'promises resolve in call order');
        results.forEach((pubs, i) => {
          const { first, count } = calls[i]!;
          assert.deepEqual(offsets(pubs), Array.from({ length: count }, (_, k) => first + k), `call ${i}`);
        });
        for (const channel of channels) {
          const page = await store.read(channel, all);
          const expected = sent.get(channel)!;
          assert.deepEqual(page.publications.map((p) => p.data), expected);
          assert.deepEqual(offsets(page.publications), expected.map((_, k) => k + 1));
          assert.equal(page.position.offset, expected.length);
          assert.ok(page.publications.every((p) => p.epoch === page.position.epoch));
        }
      }));

      it('shows every resolved append to the next read', run(async ({ store }) => {
        for (let i = 1; i <= 20; i++) {
          await store.append('ch', [msg(i)], KEEP);
          const page = await store.read('ch', { limit: 1, reverse: true });
          assert.deepEqual(offsets(page.publications), [i]);
          assert.equal(page.publications[0]?.data, msg(i).data);
          assert.equal((await store.position('ch')).offset, i);
        }
      }));

      it('returns data, info and tags byte-exact, and weighs multi-byte text by its UTF-8 bytes', run(async ({ store }) => {
        const texts = [
          '{"text":"héllo wörld — 你好 — مرحبا — 🎉👩‍👩‍👧‍👦"}',
          String.raw`{"q":"it's \"quoted\" and \\back\\slashed\n","nul":"\u0000"}`,
          '  [ 1 ,\n\t2.50 , 1e3 , null ]  ',
          '"\u00e9 vs e\u0301"',
          '{"emoji":"\ud83d\ude00","zwj":"a\u200db"}',
        ];
        const info = { user: 'üser "x"', client: "c'1", conn_info: { nick: '🙂' } };
        const tags = { 'k"ey': "v'al", ключ: 'значение' };
        await store.append('ch', texts.map((data) => ({ data, info, tags })), KEEP);
        const page = await store.read('ch', all);
        assert.deepEqual(
          page.publications.map((p) => Buffer.from(p.data, 'utf8').toString('hex')),
          texts.map((t) => Buffer.from(t, 'utf8').toString('hex')),
        );
        for (const p of page.publications) {
          assert.deepEqual(p.info, info);
          assert.deepEqual(p.tags, tags);
        }
        const weight = (data: string) => Buffer.byteLength(data) + Buffer.byteLength(JSON.stringify(info)) + Buffer.byteLength(JSON.stringify(tags));
        const two = weight(texts[0]!) + weight(texts[1]!);
        assert.deepEqual(offsets((await store.read('ch', { limit: -1, maxBytes: two })).publications), [1, 2]);
        assert.deepEqual(offsets((await store.read('ch', { limit: -1, maxBytes: two - 1 })).publications), [1]);
      }));

      it('stores 10,000 appends across 100 channels, all readable in order', run(async ({ store }) => {
        const channels = 100;
        const total = 10_000;
        const waves = 10;
        for (let w = 0; w < waves; w++) {
          const calls = [];
          for (let i = w * (total / waves); i < (w + 1) * (total / waves); i++) calls.push(store.append(`ch-${i % channels}`, [msg(i)], KEEP));
          assert.equal((await Promise.all(calls)).flat().length, total / waves);
        }
        const perChannel = total / channels;
        for (let c = 0; c < channels; c++) {
          const page = await store.read(`ch-${c}`, all);
          assert.equal(page.position.offset, perChannel);
          assert.deepEqual(
            page.publications.map((p) => [p.offset, p.data]),
            Array.from({ length: perChannel }, (_, k) => [k + 1, msg(c + k * channels).data]),
          );
        }
      }));

      it('returns nothing for an empty append and keeps the position', run(async ({ store }) => {
        await store.append('ch', [msg(1)], KEEP);
        const pos = await store.position('ch');
        assert.deepEqual(await store.append('ch', [], KEEP), []);
        assert.deepEqual(await store.position('ch'), pos);
      }));

      it('rejects an invalid retention without storing or numbering anything', run(async ({ store }) => {
        await assert.rejects(store.append('ch', [msg(1)], { size: 0, ttlMs: 0 }));
        await assert.rejects(store.append('ch', [msg(1)], { size: 5, ttlMs: -1 }));
        assert.equal((await store.position('ch')).offset, 0);
        assert.deepEqual(offsets(await store.append('ch', [msg(1)], KEEP)), [1]);
      }));
    });

    describe('reads', () => {
      const withTen = (fn: (store: Store, epoch: string) => Promise<void>) =>
        run(async ({ store }) => {
          await appendMany(store, 'ch', 10);
          await fn(store, (await store.position('ch')).epoch);
        });
      const read = async (store: Store, query: HistoryQuery): Promise<number[]> => {
        const page = await store.read('ch', query);
        assert.equal(page.position.offset, 10, 'position is the top, not the page end');
        return offsets(page.publications);
      };

      it('honours limit, since and reverse together', withTen(async (store, epoch) => {
        const range = (a: number, b: number) => Array.from({ length: Math.abs(b - a) + 1 }, (_, i) => (a < b ? a + i : a - i));
        assert.deepEqual(await read(store, all), range(1, 10));
        assert.deepEqual(await read(store, { limit: 3 }), [1, 2, 3]);
        assert.deepEqual(await read(store, { limit: 3, reverse: true }), [10, 9, 8]);
        assert.deepEqual(await read(store, { limit: -1, reverse: true }), range(10, 1));
        assert.deepEqual(await read(store, { limit: 3, since: { offset: 4, epoch } }), [5, 6, 7]);
        assert.deepEqual(await read(store, { limit: -1, since: { offset: 4, epoch } }), range(5, 10));
        assert.deepEqual(await read(store, { limit: 2, since: { offset: 4, epoch }, reverse: true }), [3, 2]);
        assert.deepEqual(await read(store, { limit: -1, since: { offset: 4, epoch }, reverse: true }), [3, 2, 1]);
        assert.deepEqual(await read(store, { limit: 10, since: { offset: 8, epoch } }), [9, 10]);
        assert.deepEqual(await read(store, { limit: 2, since: { offset: 0, epoch } }), [1, 2]);
        assert.deepEqual(await read(store, { limit: -1, since: { offset: 10, epoch } }), []);
        assert.deepEqual(await read(store, { limit: 2, since: { offset: 5, epoch: '' } }), [6, 7], 'empty epoch matches any');
      }));

      it('returns no publications, only the position, for limit 0', withTen(async (store, epoch) => {
        assert.deepEqual(await read(store, { limit: 0 }), []);
        assert.deepEqual(await read(store, { limit: 0, reverse: true }), []);
        assert.deepEqual(await read(store, { limit: 0, since: { offset: 3, epoch } }), []);
        assert.equal((await store.read('ch', { limit: 0 })).position.epoch, epoch);
      }));

      it('stops a page at maxBytes, in page order, never below one publication', withTen(async (store, epoch) => {
        // Each of the ten weighs the same: its data, {"n":k} with one digit (k < 10) or two.
        const one = Buffer.byteLength(msg(1).data);
        assert.deepEqual(await read(store, { limit: -1, maxBytes: one * 3 }), [1, 2, 3]);
        assert.deepEqual(await read(store, { limit: -1, maxBytes: one * 3 + 1 }), [1, 2, 3], 'a partial publication is not taken');
        assert.deepEqual(await read(store, { limit: 2, maxBytes: one * 3 }), [1, 2], 'limit still applies');
        assert.deepEqual(await read(store, { limit: -1, reverse: true, maxBytes: Buffer.byteLength(msg(10).data) * 2 }), [10, 9]);
        assert.deepEqual(await read(store, { limit: -1, since: { offset: 4, epoch }, maxBytes: one * 2 }), [5, 6]);
        assert.deepEqual(await read(store, { limit: -1, maxBytes: 1 }), [1], 'one publication even when it alone is larger');
        assert.deepEqual(await read(store, { limit: -1, maxBytes: 1_000_000 }), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }));

      it('counts publisher info and tags in maxBytes', run(async ({ store }) => {
        const info = { user: 'u', client: 'c' };
        const tags = { kind: 'note' };
        for (let n = 1; n <= 3; n++) await store.append('ch', [{ data: JSON.stringify({ n }), info, tags }], KEEP);
        const weight = Buffer.byteLength(msg(1).data) + Buffer.byteLength(JSON.stringify(info)) + Buffer.byteLength(JSON.stringify(tags));
        assert.deepEqual(offsets((await store.read('ch', { limit: -1, maxBytes: weight * 2 })).publications), [1, 2]);
        assert.deepEqual(offsets((await store.read('ch', { limit: -1, maxBytes: weight * 2 - 1 })).publications), [1]);
      }));

      it('returns everything retained for any negative limit', withTen(async (store, epoch) => {
        assert.equal((await read(store, { limit: -1 })).length, 10);
        assert.equal((await read(store, { limit: -5 })).length, 10);
        assert.deepEqual(await read(store, { limit: -7, since: { offset: 6, epoch } }), [7, 8, 9, 10]);
      }));
    });

    describe('unrecoverable positions', () => {
      const rejectsUnrecoverable = (p: Promise<unknown>, why: string) =>
        assert.rejects(p, UnrecoverablePositionError, why);

      it('rejects a since from another epoch', run(async ({ store }) => {
        await appendMany(store, 'ch', 3);
        const since = { offset: 1, epoch: 'not-the-epoch' };
        await rejectsUnrecoverable(store.read('ch', { limit: -1, since }), 'forward');
        await rejectsUnrecoverable(store.read('ch', { limit: -1, since, reverse: true }), 'reverse');
        await rejectsUnrecoverable(store.read('ch', { limit: 0, since }), 'limit 0');
      }));

      it('rejects a since above the top', run(async ({ store }) => {
        await appendMany(store, 'ch', 3);
        const { epoch } = await store.position('ch');
        await rejectsUnrecoverable(store.read('ch', { limit: -1, since: { offset: 4, epoch } }), 'forward');
        await rejectsUnrecoverable(store.read('ch', { limit: -1, since: { offset: 4, epoch }, reverse: true }), 'reverse');
        const empty = await store.position('empty');
        await rejectsUnrecoverable(store.read('empty', { limit: 5, since: { offset: 1, epoch: empty.epoch } }), 'empty');
      }));

      it('rejects a since whose next publications were trimmed, and serves the edge', run(async ({ store }) => {
        await appendMany(store, 'ch', 10, { size: 3, ttlMs: 0 });
        const { epoch } = await store.position('ch');
        await rejectsUnrecoverable(store.read('ch', { limit: -1, since: { offset: 5, epoch } }), 'offset 5');
        await rejectsUnrecoverable(store.read('ch', { limit: 1, since: { offset: 6, epoch } }), 'offset 6');
        await rejectsUnrecoverable(store.read('ch', { limit: 1, since: { offset: 0, epoch: '' } }), 'offset 0');
        const edge = await store.read('ch', { limit: -1, since: { offset: 7, epoch } });
        assert.deepEqual(offsets(edge.publications), [8, 9, 10]);
        assert.deepEqual(offsets((await store.read('ch', { limit: -1, since: { offset: 10, epoch } })).publications), []);
        const back = await store.read('ch', { limit: -1, since: { offset: 9, epoch }, reverse: true });
        assert.deepEqual(offsets(back.publications), [8], 'reverse reads return what is retained below since');
      }));
    });

    describe('retention', () => {
      it('keeps at most size publications, the newest', run(async ({ store }) => {
        await appendMany(store, 'one-by-one', 10, { size: 3, ttlMs: 0 });
        const page = await store.read('one-by-one', all);
        assert.deepEqual(offsets(page.publications), [8, 9, 10]);
        assert.deepEqual(page.publications.map((p) => p.data), [msg(8).data, msg(9).data, msg(10).data]);
        assert.equal(page.position.offset, 10);

        const big = await store.append('big', [1, 2, 3, 4, 5].map(msg), { size: 2, ttlMs: 0 });
        assert.deepEqual(offsets(big), [1, 2, 3, 4, 5], 'the append itself returns everything');
        assert.deepEqual(offsets((await store.read('big', all)).publications), [4, 5]);

        await appendMany(store, 'shrink', 5);
        await store.append('shrink', [msg(6)], { size: 2, ttlMs: 0 });
        assert.deepEqual(offsets((await store.read('shrink', all)).publications), [5, 6]);
      }));

      it('applies size to appends in flight at once', run(async ({ store }) => {
        const calls = Array.from({ length: 20 }, (_, i) => store.append('ch', [msg(i + 1)], { size: 5, ttlMs: 0 }));
        await Promise.all(calls);
        assert.deepEqual(offsets((await store.read('ch', all)).publications), [16, 17, 18, 19, 20]);
      }));

      it('applies the size of each append in call order, also in flight', run(async ({ store }) => {
        const calls = [
          store.append('ch', [1, 2, 3, 4, 5].map(msg), { size: 10, ttlMs: 0 }),
          store.append('ch', [msg(6)], { size: 2, ttlMs: 0 }),
          store.append('ch', [msg(7)], { size: 10, ttlMs: 0 }),
        ];
        await Promise.all(calls);
        assert.deepEqual(offsets((await store.read('ch', all)).publications), [5, 6, 7], 'a later, larger size restores nothing');
      }));

      it('never returns expired publications and keeps the top', run(async ({ store }) => {
        const short: Retention = { size: 100, ttlMs: SHORT_TTL_MS };
        await store.append('short', [msg(1), msg(2), msg(3)], short);
        await store.append('forever', [msg(1), msg(2), msg(3)], KEEP);
        // 'probe' expires no earlier than 'short', so 'short' is waited on without being read.
        await store.append('probe', [msg(1)], short);
        const { epoch } = await store.position('short');
        await waitFor('short-lived publications expire', async () => (await store.read('probe', all)).publications.length === 0);
        // A longer TTL on the next append must not bring the expired ones back.
        const [fourth] = await store.append('short', [msg(4)], { size: 100, ttlMs: 60_000 });
        assert.equal(fourth?.offset, 4);
        assert.equal(fourth?.epoch, epoch);
        assert.deepEqual(offsets((await store.read('short', all)).publications), [4]);
        assert.equal((await store.read('forever', all)).publications.length, 3);

        await store.append('expired', [msg(1), msg(2), msg(3)], short);
        const expired = await store.position('expired');
        await waitFor('publications expire', async () => (await store.read('expired', all)).publications.length === 0);
        assert.deepEqual((await store.read('expired', { limit: -1, reverse: true })).publications, []);
        assert.deepEqual(await store.position('expired'), { offset: 3, epoch: expired.epoch }, 'the top stays');
        const since = (offset: number) => ({ limit: -1, since: { offset, epoch: expired.epoch } });
        await assert.rejects(store.read('expired', since(0)), UnrecoverablePositionError);
        await assert.rejects(store.read('expired', since(2)), UnrecoverablePositionError);
        assert.deepEqual((await store.read('expired', since(3))).publications, []);
      }));
    });

    describe('removeHistory', () => {
      it('drops publications, changes the epoch and keeps offsets going up', run(async ({ store }) => {
        await appendMany(store, 'ch', 3);
        const old = await store.position('ch');
        await store.removeHistory('ch');
        const now = await store.position('ch');
        assert.equal(now.offset, 3);
        assert.notEqual(now.epoch, old.epoch);
        assert.ok(now.epoch.length > 0);
        assert.deepEqual((await store.read('ch', all)).publications, []);
        await assert.rejects(store.read('ch', { limit: -1, since: old }), UnrecoverablePositionError);
        assert.deepEqual((await store.read('ch', { limit: -1, since: now })).publications, []);
        const [next] = await store.append('ch', [msg(4)], KEEP);
        assert.equal(next?.offset, 4);
        assert.equal(next?.epoch, now.epoch);
        assert.deepEqual(offsets((await store.read('ch', all)).publications), [4]);
        assert.deepEqual(await store.position('ch'), { offset: 4, epoch: now.epoch });
      }));

      it('covers appends called before it and not those called after', run(async ({ store }) => {
        const before = [store.append('ch', [msg(1)], KEEP), store.append('ch', [msg(2)], KEEP)];
        const removed = store.removeHistory('ch');
        const after = store.append('ch', [msg(3)], KEEP);
        const [early, [late]] = [(await Promise.all(before)).flat(), await after];
        await removed;
        assert.deepEqual(offsets(early), [1, 2]);
        assert.equal(late?.offset, 3);
        assert.notEqual(late?.epoch, early[0]?.epoch);
        const page = await store.read('ch', all);
        assert.deepEqual(offsets(page.publications), [3]);
        assert.deepEqual(page.position, { offset: 3, epoch: late?.epoch });
      }));

      it('gives a never-written channel a new epoch at offset 0', run(async ({ store }) => {
        const old = await store.position('ch');
        await store.removeHistory('ch');
        const now = await store.position('ch');
        assert.equal(now.offset, 0);
        assert.notEqual(now.epoch, old.epoch);
      }));
    });

    describe('idempotency', () => {
      const keyed = (n: number, key: string): PublishRequest => ({ data: JSON.stringify({ n }), idempotencyKey: key });

      it('stores a keyed message once: a retry gets the first position, time and replayed, and takes no offset', run(async ({ store }) => {
        const [first] = await store.append('ch', [keyed(1, 'k1')], KEEP);
        assert.equal(first?.offset, 1);
        assert.equal(first?.replayed, undefined);
        const [again] = await store.append('ch', [keyed(1, 'k1')], KEEP);
        assert.deepEqual([again?.offset, again?.epoch, again?.time, again?.replayed], [1, first?.epoch, first?.time, true]);
        const [next] = await store.append('ch', [keyed(2, 'k2')], KEEP);
        assert.equal(next?.offset, 2, 'the retry took no offset');
        const page = await store.read('ch', all);
        assert.deepEqual(offsets(page.publications), [1, 2]);
        assert.equal(page.position.offset, 2);
        assert.ok(page.publications.every((p) => !('idempotencyKey' in p) && !('replayed' in p)), 'keys are not part of publications');
      }));

      it('dedupes within one call and between appends in flight at once; keys are per channel', run(async ({ store }) => {
        const inOneCall = await store.append('ch', [keyed(1, 'a'), keyed(1, 'a'), msg(2)], KEEP);
        assert.deepEqual(offsets(inOneCall), [1, 1, 2]);
        assert.deepEqual(inOneCall.map((p) => p.replayed), [undefined, true, undefined]);
        const racing = await Promise.all([store.append('ch', [keyed(3, 'b')], KEEP), store.append('ch', [keyed(3, 'b')], KEEP)]);
        assert.deepEqual(racing.flat().map((p) => p.offset), [3, 3]);
        const [elsewhere] = await store.append('other', [keyed(1, 'a')], KEEP);
        assert.deepEqual([elsewhere?.offset, elsewhere?.replayed], [1, undefined], 'the same key in another channel is another message');
        assert.deepEqual(offsets((await store.read('ch', all)).publications), [1, 2, 3]);
      }));

      it('forgets a channel\'s keys when its history is removed', run(async ({ store }) => {
        await store.append('ch', [keyed(1, 'k')], KEEP);
        await store.removeHistory('ch');
        const [fresh] = await store.append('ch', [keyed(1, 'k')], KEEP);
        assert.deepEqual([fresh?.offset, fresh?.replayed], [2, undefined]);
        assert.equal(fresh?.epoch, (await store.position('ch')).epoch);
      }));

      it('remembers keys across close and reopen', run(async (ctx) => {
        const [first] = await ctx.store.append('ch', [keyed(1, 'k')], KEEP);
        const reopened = await ctx.reopen();
        const [again] = await reopened.append('ch', [keyed(1, 'k')], KEEP);
        assert.deepEqual([again?.offset, again?.epoch, again?.replayed], [first?.offset, first?.epoch, true]);
        assert.equal((await reopened.position('ch')).offset, 1);
      }, true));
    });

    describe('durability', () => {
      it('keeps epochs, offsets and retained publications across close and reopen', run(async (ctx) => {
        const s = ctx.store;
        await s.append('a', [{ data: '{"x":1}', info: { user: 'u', client: 'c' }, tags: { t: 'v' } }, msg(2)], KEEP);
        await appendMany(s, 'b', 5, { size: 2, ttlMs: 0 });
        await appendMany(s, 'c', 2);
        await s.removeHistory('c');
        await s.append('c', [msg(3)], KEEP);
        await s.position('d');
        const channels = ['a', 'b', 'c', 'd'];
        const pages = await Promise.all(channels.map((ch) => s.read(ch, all)));
        const reopened = await ctx.reopen();
        for (const [i, ch] of channels.entries()) assert.deepEqual(await reopened.read(ch, all), pages[i], ch);
        const [a3] = await reopened.append('a', [msg(3)], KEEP);
        assert.deepEqual([a3?.offset, a3?.epoch], [3, pages[0]?.position.epoch]);
        const [b6] = await reopened.append('b', [msg(6)], { size: 2, ttlMs: 0 });
        assert.equal(b6?.offset, 6);
        assert.deepEqual(offsets((await reopened.read('b', all)).publications), [5, 6]);
      }, true));

      it('makes appends still in flight durable on close', run(async (ctx) => {
        const inFlight = [1, 2, 3].map((i) => ctx.store.append('ch', [msg(i)], KEEP));
        const reopened = await ctx.reopen();
        assert.deepEqual((await Promise.all(inFlight)).flat().map((p) => p.offset), [1, 2, 3]);
        const page = await reopened.read('ch', all);
        assert.deepEqual(page.publications.map((p) => p.data), [1, 2, 3].map((i) => msg(i).data));
      }, true));

      it('still applies TTL after reopen', run(async (ctx) => {
        await ctx.store.append('short', [msg(1), msg(2)], { size: 100, ttlMs: SHORT_TTL_MS });
        await ctx.store.append('forever', [msg(1)], KEEP);
        const pos = await ctx.store.position('short');
        const reopened = await ctx.reopen();
        await waitFor('publications expire after reopen', async () => (await reopened.read('short', all)).publications.length === 0);
        assert.deepEqual(await reopened.position('short'), pos);
        assert.equal((await reopened.read('forever', all)).publications.length, 1);
      }, true));
    });

    describe('lifecycle', () => {
      it('closes idempotently and rejects calls after close', run(async ({ store }) => {
        await store.append('ch', [msg(1)], KEEP);
        await store.close();
        await store.close();
        const closed = /closed/;
        await assert.rejects(store.append('ch', [msg(2)], KEEP), closed);
        await assert.rejects(store.read('ch', all), closed);
        await assert.rejects(store.position('ch'), closed);
        await assert.rejects(store.removeHistory('ch'), closed);
      }));

      it('rejects calls before open', async () => {
        const fixture = await makeStore();
        try {
          await assert.rejects(fixture.store.position('ch'), /not open/);
        } finally {
          await fixture.store.close();
          await fixture.cleanup();
        }
      });
    });
  });
}
