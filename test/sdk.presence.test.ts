/**
 * Conformance with the real `centrifuge` SDK: presence, presence stats and
 * join/leave events, across users and across several connections (tabs) of
 * one user.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { connectClient, disconnectAll, disconnectClient, eventsOf, rejection, subscribe } from './helpers/sdk.js';

/** The SDK's ClientInfo fields (the SDK also leaves the raw snake_case fields on presence entries). */
function pick(info: { client?: string; user?: string; connInfo?: unknown; chanInfo?: unknown } | undefined) {
  assert.ok(info, 'client missing from presence');
  const out: Record<string, unknown> = { client: info.client, user: info.user };
  if (info.connInfo !== undefined) out.connInfo = info.connInfo;
  if (info.chanInfo !== undefined) out.chanInfo = info.chanInfo;
  return out;
}

describe('sdk: presence and join/leave', () => {
  let ts: TestServer;
  const ALICE_INFO = { name: 'Alice', avatar: 'a.png' };
  const BOB_INFO = { name: 'Bob' };

  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  const alice = async () => connectClient(ts.wsUrl, { token: await mintToken({ sub: 'alice', info: ALICE_INFO }) });
  const bob = async () => connectClient(ts.wsUrl, { token: await mintToken({ sub: 'bob', info: BOB_INFO }) });

  test('two users: join carries user and connInfo, presence lists both, leave on unsubscribe', async () => {
    const a = await alice();
    const b = await bob();
    const aRoom = await subscribe(a.client, 'room:two-users');

    const bRoom = await subscribe(b.client, 'room:two-users');
    const joins = await waitFor(() => {
      const found = aRoom.of('join').filter((ctx) => ctx.info.client === b.clientId);
      return found.length > 0 ? found : undefined;
    }, { message: "bob's join at alice" });
    assert.equal(joins.length, 1, 'exactly one join for bob');
    const join = joins[0];
    assert.equal(join.channel, 'room:two-users');
    assert.equal(join.info.user, 'bob');
    assert.equal(join.info.client, b.clientId);
    assert.deepEqual(join.info.connInfo, BOB_INFO);

    const presence = await aRoom.sub.presence();
    assert.deepEqual(Object.keys(presence.clients).sort(), [a.clientId, b.clientId].sort());
    assert.deepEqual(pick(presence.clients[a.clientId]), { client: a.clientId, user: 'alice', connInfo: ALICE_INFO });
    assert.deepEqual(pick(presence.clients[b.clientId]), { client: b.clientId, user: 'bob', connInfo: BOB_INFO });
    // The client-level call gives the same answer.
    const viaClient = await b.client.presence('room:two-users');
    assert.deepEqual(viaClient.clients, presence.clients);

    const stats = await aRoom.sub.presenceStats();
    assert.deepEqual(stats, { numClients: 2, numUsers: 2 });

    bRoom.sub.unsubscribe();
    const leaves = await waitFor(() => {
      const found = aRoom.of('leave').filter((ctx) => ctx.info.client === b.clientId);
      return found.length > 0 ? found : undefined;
    }, { message: "bob's leave at alice" });
    assert.equal(leaves[0].info.user, 'bob');
    assert.deepEqual(leaves[0].info.connInfo, BOB_INFO);

    const after = await aRoom.sub.presence();
    assert.deepEqual(Object.keys(after.clients), [a.clientId]);
    assert.deepEqual(await aRoom.sub.presenceStats(), { numClients: 1, numUsers: 1 });
  });

  test('two tabs of one user: presence lists both clients, stats 2 clients / 1 user', async () => {
    const tab1 = await alice();
    const tab2 = await alice();
    assert.notEqual(tab1.clientId, tab2.clientId);
    const room1 = await subscribe(tab1.client, 'room:tabs');
    const room2 = await subscribe(tab2.client, 'room:tabs');

    // Tab 1 sees tab 2 join, as alice, with her connInfo.
    const join = await waitFor(() => room1.of('join').find((ctx) => ctx.info.client === tab2.clientId), {
      message: "tab 2's join at tab 1",
    });
    assert.equal(join.info.user, 'alice');
    assert.deepEqual(join.info.connInfo, ALICE_INFO);

    const presence = await room2.sub.presence();
    assert.deepEqual(Object.keys(presence.clients).sort(), [tab1.clientId, tab2.clientId].sort());
    for (const info of Object.values(presence.clients)) {
      assert.equal(info.user, 'alice');
      assert.deepEqual(info.connInfo, ALICE_INFO);
    }
    assert.deepEqual(await room1.sub.presenceStats(), { numClients: 2, numUsers: 1 });
  });

  test('one tab disconnects: leave carries that tab, the user stays present with the other tab', async () => {
    const tab1 = await alice();
    const tab2 = await alice();
    const watcher = await bob();
    const watch = await subscribe(watcher.client, 'room:tab-leave');
    const room1 = await subscribe(tab1.client, 'room:tab-leave');
    const room2 = await subscribe(tab2.client, 'room:tab-leave');
    void room1;

    // Bob sees both tabs join, each with its own client id and alice's identity.
    await waitFor(() => {
      const clients = watch.of('join').map((ctx) => ctx.info.client);
      return clients.includes(tab1.clientId) && clients.includes(tab2.clientId);
    }, { message: 'both tabs joined' });
    for (const ctx of watch.of('join').filter((c) => c.info.user === 'alice')) {
      assert.deepEqual(ctx.info.connInfo, ALICE_INFO);
    }
    assert.deepEqual(await watch.sub.presenceStats(), { numClients: 3, numUsers: 2 });

    // Tab 1 goes away (its whole connection).
    disconnectClient(tab1.client);

    const leaveAtBob = await waitFor(() => watch.of('leave').find((ctx) => ctx.info.client === tab1.clientId), {
      message: "tab 1's leave at bob",
    });
    assert.equal(leaveAtBob.info.user, 'alice');
    assert.deepEqual(leaveAtBob.info.connInfo, ALICE_INFO);
    const leaveAtTab2 = await waitFor(() => room2.of('leave').find((ctx) => ctx.info.client === tab1.clientId), {
      message: "tab 1's leave at tab 2",
    });
    assert.equal(leaveAtTab2.info.user, 'alice');
    // No leave for the tab that stayed.
    assert.equal(watch.of('leave').filter((ctx) => ctx.info.client === tab2.clientId).length, 0);

    const presence = await watch.sub.presence();
    assert.deepEqual(Object.keys(presence.clients).sort(), [tab2.clientId, watcher.clientId].sort());
    assert.equal(presence.clients[tab2.clientId]?.user, 'alice', 'alice is still present through tab 2');
    assert.deepEqual(await watch.sub.presenceStats(), { numClients: 2, numUsers: 2 });

    // The other tab still works in the room.
    await tab2.client.publish('room:tab-leave', { still: 'here' });
    const pubs = await eventsOf(watch, 'publication', 1);
    assert.equal(pubs[0].info.client, tab2.clientId);
  });

  test('presence in a namespace without presence rejects with 108', async () => {
    const a = await alice();
    await subscribe(a.client, 'plain-channel');
    const error = await rejection(a.client.presence('plain-channel'));
    assert.equal(error.code, 108);
    const statsError = await rejection(a.client.presenceStats('plain-channel'));
    assert.equal(statsError.code, 108);
  });
});
