/**
 * The per-address limit behind sign-in and token requests, on a clock the
 * test moves: the burst, the sustained rate, the Retry-After it computes,
 * and its bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressLimit, admit, tryAgainIn } from '../src/http/address-limit.js';
import { runAddressLimiterContract } from './contracts/address-limiter-contract.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

runAddressLimiterContract('memory', async (options) => new AddressLimit(options));

test('a burst at once, then the sustained rate; a refusal says when the next request is allowed', () => {
  const time = clock();
  const limit = new AddressLimit({ burst: 3, perMinute: 6 }, time.now);
  assert.deepEqual([1, 2, 3].map(() => limit.take('10.0.0.1').allowed), [true, true, true]);
  assert.deepEqual(limit.take('10.0.0.1'), { allowed: false, retryAfterSeconds: 10 }, 'six a minute: one every 10 s');
  assert.equal(limit.take('10.0.0.2').allowed, true, 'each address has its own bucket');
  time.advance(9_000);
  assert.deepEqual(limit.take('10.0.0.1'), { allowed: false, retryAfterSeconds: 1 });
  time.advance(1_000);
  assert.equal(limit.take('10.0.0.1').allowed, true);
  assert.equal(limit.take('10.0.0.1').allowed, false);
  time.advance(60_000);
  assert.deepEqual([1, 2, 3, 4].map(() => limit.take('10.0.0.1').allowed), [true, true, true, false], 'refilled up to the burst, no further');
});

test('admit sets Retry-After on the reply only when it refuses', async () => {
  const limit = new AddressLimit({ burst: 1, perMinute: 1 }, clock().now);
  const headers = new Map<string, string>();
  const reply = { header: (name: string, value: string) => headers.set(name, value) };
  assert.equal(await admit(limit, 'a', reply), undefined);
  assert.equal(headers.size, 0);
  assert.equal(await admit(limit, 'a', reply), 60);
  assert.deepEqual([...headers], [['retry-after', '60']]);
  assert.equal(tryAgainIn(60), 'try again in 60 seconds');
  assert.equal(tryAgainIn(1), 'try again in 1 second');
});

test('memory is bounded: past maxAddresses, refilled buckets are forgotten first, and all when none is', () => {
  const time = clock();
  const limit = new AddressLimit({ burst: 1, perMinute: 1, maxAddresses: 2 }, time.now);
  assert.equal(limit.take('a').allowed, true);
  time.advance(30_000);
  assert.equal(limit.take('b').allowed, true);
  time.advance(30_000);
  // "a" is full again, "b" still draining: the third address makes room by forgetting "a" only.
  assert.equal(limit.take('c').allowed, true);
  assert.equal(limit.take('b').allowed, false, 'b is still remembered');
  // Now "b" and "c" are both draining: a fourth address forgets every bucket.
  assert.equal(limit.take('d').allowed, true);
  assert.equal(limit.take('c').allowed, true, 'c was forgotten');
});
