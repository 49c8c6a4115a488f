/** SingleFlight: concurrent calls for one key share one run; later calls run afresh; failures are shared, not kept. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SingleFlight } from '../src/node/single-flight.js';

test('concurrent calls for a key share one run, other keys and later calls run their own', async () => {
  const flights = new SingleFlight<number>();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const work = async () => {
    runs++;
    await gate;
    return runs;
  };
  const shared = [flights.run('a', work), flights.run('a', work)];
  const other = flights.run('b', work);
  release();
  assert.deepEqual(await Promise.all(shared), [2, 2]);
  assert.equal(await other, 2);
  assert.equal(await flights.run('a', work), 3, 'a call after the shared one settled runs again');
});

test('a failure reaches every caller of that run and is not remembered', async () => {
  const flights = new SingleFlight<string>();
  let fail = true;
  const work = async () => {
    if (fail) throw new Error('down');
    return 'up';
  };
  const calls = [flights.run('k', work), flights.run('k', work)];
  for (const call of calls) await assert.rejects(call, /down/);
  fail = false;
  assert.equal(await flights.run('k', work), 'up');
});
