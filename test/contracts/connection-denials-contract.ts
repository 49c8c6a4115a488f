/**
 * The ConnectionDenials contract (see src/cluster/connection-denials.ts):
 * `make` returns two nodes' views of one deployment's denials.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionDenials } from '../../src/cluster/connection-denials.js';
import { Disconnects } from '../../src/protocol/errors.js';
import { waitFor } from '../helpers/wait.js';

export function runConnectionDenialsContract(name: string, make: () => Promise<{ nodes: [ConnectionDenials, ConnectionDenials]; cleanup(): Promise<void> }>): void {
  describe(`ConnectionDenials contract: ${name}`, () => {
    test('a denial is seen on every node with its disconnect, for its user only, until it lapses', async () => {
      const { nodes: [a, b], cleanup } = await make();
      try {
        assert.equal(await b.deniedWith('ann'), undefined);
        await a.deny('ann', Disconnects.forceDisconnect, 60_000);
        assert.deepEqual(await b.deniedWith('ann'), Disconnects.forceDisconnect);
        assert.equal(await b.deniedWith('bob'), undefined);
        await b.deny('bob', Disconnects.forceDisconnect, 50);
        await waitFor(async () => (await a.deniedWith('bob')) === undefined, { message: "bob's denial to lapse" });
        assert.deepEqual(await a.deniedWith('ann'), Disconnects.forceDisconnect, "ann's lasts its own time");
      } finally {
        await cleanup();
      }
    });
  });
}
