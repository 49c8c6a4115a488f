/**
 * The sign-in and token request limits shared through the real Redis:
 * limiters on two nodes draw from one bucket per address, and a node that
 * cannot reach Redis limits on its own.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SharedAddressLimit, sharedAddressLimiters } from '../src/http/shared-address-limit.js';
import { runAddressLimiterContract } from './contracts/address-limiter-contract.js';
import { connectRedis, deleteKeys, uniquePrefix, type TestRedisClient } from './helpers/redis-service.js';

let client: TestRedisClient;
let other: TestRedisClient;
const prefix = uniquePrefix('limit');

before(async () => {
  [client, other] = [await connectRedis(), await connectRedis()];
});
after(async () => {
  await deleteKeys(client, prefix);
  await Promise.all([client.close(), other.close()]);
});

runAddressLimiterContract('redis', async (options) => new SharedAddressLimit(client, { ...options, prefix: `${prefix}contract:`, name: 'sign-in' }));

const allowed = async (limit: SharedAddressLimit, address: string) => (await limit.take(address)).allowed;

test('two nodes share one bucket per address: the burst is for both together, then the sustained rate', async () => {
  const limit = { burst: 3, perMinute: 6 };
  const [a, b] = [new SharedAddressLimit(client, { ...limit, prefix, name: 'sign-in' }), new SharedAddressLimit(other, { ...limit, prefix, name: 'sign-in' })];
  assert.deepEqual([await allowed(a, '10.0.0.1'), await allowed(b, '10.0.0.1'), await allowed(a, '10.0.0.1')], [true, true, true]);
  const refused = await b.take('10.0.0.1');
  assert.equal(refused.allowed, false, 'the fourth request, on the other node, is over the shared burst');
  if (!refused.allowed) assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 10, `six a minute: at most 10 s (${refused.retryAfterSeconds})`);
  assert.equal(await allowed(a, '10.0.0.2'), true, 'each address has its own bucket');

  const makers = sharedAddressLimiters(other, { prefix });
  assert.equal((await makers('seed-auth', limit).take('10.0.0.1')).allowed, true, 'another limit has its own buckets');
  assert.equal((await makers('sign-in', limit).take('10.0.0.1')).allowed, false, 'the same limit made by the factory shares them');

  const ttl = await client.pTTL(`${prefix}sign-in:10.0.0.1`);
  assert.ok(ttl > 0 && ttl <= 31_000, `an idle bucket expires once it would be full again (pttl ${ttl})`);
});

test('without Redis, each node limits on its own memory buckets', async () => {
  const gone = await connectRedis();
  await gone.close();
  const limit = new SharedAddressLimit(gone, { burst: 2, perMinute: 1, prefix, name: 'token-refresh' });
  assert.deepEqual([await allowed(limit, 'a'), await allowed(limit, 'a'), await allowed(limit, 'a')], [true, true, false]);
  const shared = new SharedAddressLimit(client, { burst: 2, perMinute: 1, prefix, name: 'token-refresh' });
  assert.equal(await allowed(shared, 'a'), true, "the memory buckets were this node's only: Redis's bucket is untouched");
});
