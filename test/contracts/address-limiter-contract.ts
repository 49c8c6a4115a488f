/**
 * The AddressLimiter contract (see src/http/address-limit.ts): `make`
 * returns a fresh limiter of the given limit, with no request counted yet.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddressLimiter, AddressLimitOptions } from '../../src/http/address-limit.js';

export function runAddressLimiterContract(name: string, make: (options: AddressLimitOptions) => Promise<AddressLimiter>): void {
  describe(`AddressLimiter contract: ${name}`, () => {
    test('an address gets its burst at once, then a refusal that says to wait at least a second; addresses are independent', async () => {
      const limiter = await make({ burst: 2, perMinute: 2 });
      const decisions = [];
      for (let i = 0; i < 3; i++) decisions.push(await limiter.take('192.0.2.1'));
      assert.deepEqual(decisions.slice(0, 2), [{ allowed: true }, { allowed: true }]);
      const refused = decisions[2]!;
      assert.equal(refused.allowed, false);
      if (!refused.allowed) assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 30, `two a minute: at most 30 s (${refused.retryAfterSeconds})`);
      assert.deepEqual(await limiter.take('192.0.2.2'), { allowed: true });
    });
  });
}
