/**
 * Checks the cluster tests share: what every subscriber of a stream must
 * have received (each offset once, in order, nothing missing).
 */
import assert from 'node:assert/strict';
import { offsetsOf, range, type TestSubscription } from './sdk.js';

/** Namespace the cluster tests publish into: durable, recoverable, with presence and join/leave. */
export const FEED_NAMESPACE = {
  historySize: 100_000,
  historyTtl: 0,
  recover: true,
  presence: true,
  joinLeave: true,
  allowPublish: true,
  allowSubscribe: true,
};

/** Flags that let a test publish as fast as it can from one connection. */
export const FAST_PUBLISH_FLAGS = ['--command-rate-limit', '100000', '--command-burst', '100000'];

/** Asserts that a subscription received exactly offsets 1..count, once each, in order. */
export function assertExactStream(made: TestSubscription, count: number, label: string): void {
  const offsets = offsetsOf(made.publications);
  const seen = new Set<number>();
  const duplicates = offsets.filter((offset) => (seen.has(offset) ? true : (seen.add(offset), false)));
  assert.deepEqual(duplicates, [], `${label}: no publication twice`);
  const missing = range(1, count).filter((offset) => !seen.has(offset));
  assert.deepEqual(missing.slice(0, 20), [], `${label}: nothing missing (${missing.length} missing)`);
  assert.deepEqual(offsets, range(1, count), `${label}: in offset order`);
}
