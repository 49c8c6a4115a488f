/** Deadlines: one timer for every session's connect timeout and token expiry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadlines, type DeadlineTarget } from '../src/session/deadlines.js';
import { waitFor } from './helpers/wait.js';

const STEP_MS = 10;
const rethrow = (error: unknown) => {
  throw error;
};

class Target implements DeadlineTarget {
  calls: number[] = [];
  onDeadline(): void {
    this.calls.push(performance.now());
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('each target is called once, not before its deadline', async () => {
  const deadlines = new Deadlines(rethrow, STEP_MS);
  const start = performance.now();
  const early = new Target();
  const late = new Target();
  deadlines.set(early, 30);
  deadlines.set(late, 120);
  await waitFor(() => late.calls.length === 1);
  await sleep(5 * STEP_MS);
  assert.equal(early.calls.length, 1);
  assert.equal(late.calls.length, 1);
  assert.ok((early.calls[0] as number) >= start + 30, 'not before the deadline');
  assert.ok((late.calls[0] as number) >= start + 120, 'not before the deadline');
  assert.ok((early.calls[0] as number) < (late.calls[0] as number));
  assert.equal(deadlines.size, 0);
  deadlines.stop();
});

test('clear cancels, a second set moves the deadline, a past deadline fires on the next step', async () => {
  const deadlines = new Deadlines(rethrow, STEP_MS);
  const cleared = new Target();
  const moved = new Target();
  const past = new Target();
  deadlines.set(cleared, 20);
  deadlines.clear(cleared);
  deadlines.set(moved, 20);
  const movedTo = performance.now() + 100;
  deadlines.set(moved, 100);
  deadlines.set(past, -1_000);
  await waitFor(() => past.calls.length === 1);
  await waitFor(() => moved.calls.length === 1);
  assert.ok((moved.calls[0] as number) >= movedTo);
  await sleep(5 * STEP_MS);
  assert.deepEqual(cleared.calls, []);
  assert.equal(moved.calls.length, 1);
  deadlines.stop();
});

test('a target may set its next deadline from onDeadline; stop forgets what is pending', async () => {
  const deadlines = new Deadlines(rethrow, STEP_MS);
  let calls = 0;
  const rearming: DeadlineTarget = {
    onDeadline() {
      calls++;
      if (calls < 3) deadlines.set(rearming, STEP_MS);
    },
  };
  deadlines.set(rearming, 0);
  await waitFor(() => calls === 3);
  const forgotten = new Target();
  deadlines.set(forgotten, 20);
  deadlines.stop();
  await sleep(6 * STEP_MS);
  assert.deepEqual(forgotten.calls, []);
  assert.equal(calls, 3);
  assert.equal(deadlines.size, 0);
});

test('a target cleared or moved by another in the same step is not called for it; a throwing target does not stop the rest', async () => {
  const errors: unknown[] = [];
  const deadlines = new Deadlines((error) => errors.push(error), STEP_MS);
  const cleared = new Target();
  const moved = new Target();
  const after = new Target();
  const first: DeadlineTarget = {
    onDeadline() {
      deadlines.clear(cleared);
      deadlines.set(moved, 200);
      throw new Error('boom');
    },
  };
  // Same deadline, same bucket; `first` was set first, so it is called first.
  deadlines.set(first, 20);
  deadlines.set(cleared, 20);
  deadlines.set(moved, 20);
  deadlines.set(after, 20);
  await waitFor(() => after.calls.length === 1);
  assert.deepEqual(cleared.calls, []);
  assert.deepEqual(moved.calls, [], 'moved to later: not called at the old deadline');
  assert.equal(errors.length, 1);
  assert.equal(deadlines.size, 1, 'the moved target still has its new deadline');
  await waitFor(() => moved.calls.length === 1);
  assert.equal(deadlines.size, 0);
  deadlines.stop();
});
