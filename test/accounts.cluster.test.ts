/**
 * Accounts across the nodes of a cluster (one PostgreSQL, one Redis): what
 * one node does to an account reaches its connections on every node.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Disconnects } from '../src/protocol/errors.js';
import { connectDevice, signIn, signUp } from './helpers/accounts.js';
import { connectChat } from './helpers/chat.js';
import { startClusterNode, type ClusterTestNode } from './helpers/cluster-node.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { connectRedis, deleteKeys, uniquePrefix } from './helpers/redis-service.js';
import { disconnectAll } from './helpers/sdk.js';
import { waitFor } from './helpers/wait.js';

const closedWith = async (client: { of(event: string): any[] }): Promise<number> =>
  (await waitFor(() => client.of('disconnected')[0], { message: 'a terminal disconnect' })).code;

describe('accounts on a cluster', () => {
  let database: TestDatabase;
  let a: ClusterTestNode;
  let b: ClusterTestNode;
  const prefix = uniquePrefix('accounts-cluster');
  before(async () => {
    database = await createTestDatabase();
    const flags = ['--auth-mode', 'open', '--postgres-url', database.url];
    a = await startClusterNode(prefix, { flags });
    b = await startClusterNode(prefix, { flags });
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await a?.stop();
    await b?.stop();
    await database?.drop();
    const client = await connectRedis();
    await deleteKeys(client, prefix);
    await client.close();
  });

  test('an admin on one node deactivates an account connected on the other: closed at once, refused on reconnect with its still-valid token', async () => {
    const admin = await signUp(a.ts, 'boss');
    const gus = await signUp(b.ts, 'gus');
    const onB = await connectDevice(gus.device, gus.result.token);
    assert.equal((await admin.device.post(`/app/admin/accounts/${gus.result.account.id}/deactivate`)).status, 200);
    assert.equal(await closedWith(onB), Disconnects.accountDeactivated.code);
    for (const node of [a, b]) {
      const again = await connectChat(node.ts.wsUrl, gus.result.token).catch((error: unknown) => error);
      assert.ok(again instanceof Error, 'refused on every node');
    }
  });

  test('signing out everywhere on one node closes the second device\'s connection on the other', async () => {
    const here = await signUp(a.ts, 'ivy');
    const there = await signIn(b.ts, 'ivy');
    const onB = await connectDevice(there.device, there.result.token);
    assert.equal((await here.device.post('/app/signout-everywhere')).status, 204);
    assert.equal(await closedWith(onB), Disconnects.signedOut.code);
    assert.equal((await there.device.post('/app/token')).status, 401);
  });
});
