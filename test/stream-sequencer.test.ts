/**
 * The StreamSequencer on its own, over a MemoryStore: order, duplicates,
 * gaps filled from the store, the start position, epoch changes, and the
 * bounds (held publications, how long a gap may stay open).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StreamSequencer, type StreamSequencerOptions } from '../src/node/stream-sequencer.js';
import type { Publication, StreamPosition } from '../src/protocol/types.js';
import { MemoryStore } from '../src/store/memory-store.js';
import type { HistoryQuery } from '../src/store/store.js';
import { capturingLogger } from './helpers/log-capture.js';
import { range } from './helpers/sdk.js';
import { waitFor } from './helpers/wait.js';

const KEEP = { size: 10_000, ttlMs: 0 };
const CHANNEL = 'feed:x';

/** A sequencer over a fresh store, recording what it delivers and resets; `faults` change how the store answers. */
async function setup(options: Partial<StreamSequencerOptions> = {}, faults: { failReads?: boolean; positionGate?: Promise<void> } = {}) {
  const store = new MemoryStore();
  await store.open();
  const delivered: Publication[] = [];
  const resets: string[] = [];
  let positionReads = 0;
  let reads = 0;
  const sequencer = new StreamSequencer({
    store: {
      read: async (channel: string, query: HistoryQuery) => {
        reads++;
        if (faults.failReads) throw new Error('store unavailable');
        return store.read(channel, query);
      },
    },
    position: async (channel: string): Promise<StreamPosition> => {
      positionReads++;
      await faults.positionGate;
      return store.position(channel);
    },
    deliver: (_channel, publication) => delivered.push(publication),
    reset: (_channel, reason) => resets.push(reason),
    logger: capturingLogger().logger,
    gapWaitMs: 20,
    ...options,
  });
  const append = async (count: number): Promise<Publication[]> =>
    store.append(CHANNEL, Array.from({ length: count }, (_, i) => ({ data: JSON.stringify(i) })), KEEP);
  return {
    store,
    sequencer,
    delivered,
    resets,
    append,
    offsets: () => delivered.map((p) => p.offset),
    positionReads: () => positionReads,
    reads: () => reads,
  };
}

describe('StreamSequencer', () => {
  test('delivers in order, drops duplicates, and fills a gap from the store after the wait', async () => {
    const s = await setup();
    await s.sequencer.track(CHANNEL);
    const pubs = await s.append(5);
    s.sequencer.receive(CHANNEL, pubs[0]!);
    s.sequencer.receive(CHANNEL, pubs[0]!);
    s.sequencer.receive(CHANNEL, pubs[3]!);
    s.sequencer.receive(CHANNEL, pubs[4]!);
    assert.deepEqual(s.offsets(), [1], 'held behind the gap');
    await waitFor(() => s.delivered.length === 5, { message: 'gap filled' });
    s.sequencer.receive(CHANNEL, pubs[1]!);
    assert.deepEqual(s.offsets(), range(1, 5));
    assert.deepEqual(s.resets, []);
    s.sequencer.stop();
  });

  test('a gap the late publication closes itself needs no store read', async () => {
    const s = await setup({ gapWaitMs: 60_000 });
    await s.sequencer.track(CHANNEL);
    const pubs = await s.append(3);
    for (const index of [1, 2, 0]) s.sequencer.receive(CHANNEL, pubs[index]!);
    assert.deepEqual(s.offsets(), [1, 2, 3]);
    assert.equal(s.reads(), 0);
    s.sequencer.stop();
  });

  test('starts after the store top read on track; publications arriving meanwhile are held, then the newer ones delivered', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const s = await setup({}, { positionGate: gate });
    const early = await s.append(2);
    const tracked = s.sequencer.track(CHANNEL);
    const again = s.sequencer.track(CHANNEL);
    const later = await s.append(2);
    // One the bus carried before the top read could see it (stored, not yet visible to that read).
    const ahead: Publication = { data: '"ahead"', offset: 5, epoch: early[0]!.epoch! };
    for (const publication of [...early, ...later, ahead]) s.sequencer.receive(CHANNEL, publication);
    assert.deepEqual(s.offsets(), []);
    open();
    await Promise.all([tracked, again]);
    // The top (4) was read after four were stored: those predate the start, the one beyond it is delivered.
    assert.deepEqual(s.offsets(), [5]);
    assert.equal(s.positionReads(), 1, 'one start read for concurrent track calls');
    const [stored5, stored6] = await s.append(2);
    s.sequencer.receive(CHANNEL, stored5!);
    s.sequencer.receive(CHANNEL, stored6!);
    assert.deepEqual(s.offsets(), [5, 6]);
    s.sequencer.stop();
  });

  test('a new epoch in the store resets the listeners and delivery goes on from its top', async () => {
    const s = await setup();
    await s.sequencer.track(CHANNEL);
    const [first] = await s.append(1);
    s.sequencer.receive(CHANNEL, first!);
    await s.store.removeHistory(CHANNEL);
    const [renewed] = await s.append(1);
    assert.notEqual(renewed!.epoch, first!.epoch);
    s.sequencer.receive(CHANNEL, renewed!);
    await waitFor(() => s.resets.length === 1, { message: 'reset on the new epoch' });
    assert.deepEqual(s.resets, ['the stream has a new epoch']);
    const [next] = await s.append(1);
    s.sequencer.receive(CHANNEL, next!);
    assert.deepEqual(s.offsets(), [1, 3]);
    // A late publication of the old epoch changes nothing.
    s.sequencer.receive(CHANNEL, first!);
    await s.sequencer.resync();
    assert.equal(s.resets.length, 1);
    s.sequencer.stop();
  });

  test('holds at most maxBuffered behind a gap and reads the rest from the store', async () => {
    const s = await setup({ maxBuffered: 3, gapWaitMs: 60_000 });
    await s.sequencer.track(CHANNEL);
    const pubs = await s.append(20);
    for (const publication of pubs.slice(1)) s.sequencer.receive(CHANNEL, publication);
    assert.deepEqual(s.offsets(), []);
    await s.sequencer.resync();
    assert.deepEqual(s.offsets(), range(1, 20));
    s.sequencer.stop();
  });

  test('a gap the store cannot fill within maxGapMs resets the listeners and delivery resumes from what is held', async () => {
    const s = await setup({ maxGapMs: 100 }, { failReads: true });
    await s.sequencer.track(CHANNEL);
    const pubs = await s.append(4);
    s.sequencer.receive(CHANNEL, pubs[0]!);
    s.sequencer.receive(CHANNEL, pubs[2]!);
    s.sequencer.receive(CHANNEL, pubs[3]!);
    await waitFor(() => s.resets.length > 0, { message: 'gives up on the gap' });
    assert.deepEqual(s.resets, ['missing publications could not be read']);
    assert.deepEqual(s.offsets(), [1, 3, 4]);
    assert.ok(s.reads() >= 2, 'it retried the store before giving up');
    s.sequencer.stop();
  });

  test('the sweep delivers what the store has beyond the last delivery of an idle channel', async () => {
    const s = await setup({ sweepIntervalMs: 20, idleMs: 0 });
    await s.sequencer.track(CHANNEL);
    s.sequencer.start();
    await s.append(3);
    await waitFor(() => s.delivered.length === 3, { message: 'swept' });
    assert.deepEqual(s.offsets(), [1, 2, 3]);
    s.sequencer.stop();
  });

  test('publications of untracked channels pass straight through', async () => {
    const s = await setup();
    s.sequencer.receive('other', { data: '1', offset: 7, epoch: 'e' });
    assert.deepEqual(s.offsets(), [7]);
  });
});
