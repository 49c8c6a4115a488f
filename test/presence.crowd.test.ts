/**
 * Presence at real sizes, through raw WebSocket clients: a crowd storming
 * into one `room:` channel (presence and join/leave on) while messages are
 * published keeps every client and every publication, pushes each client a
 * bounded number of joins, and keeps counts exact; join/leave events switch
 * off above `joinLeaveMaxClients` and back on at 80% of it; presence lists
 * are refused above `presenceMaxClients` (106) while `presence_stats` stays
 * exact, on the protocol and in the server API.
 */
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { apiCall } from './helpers/api.js';
import { connectRaw, type RawClient } from './helpers/raw-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const CROWD = 1500;
/** Handshakes in flight at once while the crowd connects. */
const IN_FLIGHT = 100;
const JOIN_LEAVE_MAX = 100;
/** The publisher's pace while the crowd connects (a chat's pace, not a flood). */
const PUBLISH_INTERVAL_MS = 20;

type Push = Record<string, any>;

function pushes(client: RawClient, kind: 'join' | 'leave' | 'pub', channel: string): Push[] {
  return client.received.filter((line) => line.push?.channel === channel && line.push[kind]).map((line) => line.push[kind]);
}

let nextCommandId = 100;

/** Sends a command and resolves with its reply line. */
async function command(client: RawClient, method: string, body: unknown, timeoutMs = 20_000): Promise<Push> {
  const id = ++nextCommandId;
  client.command(id, method, body);
  return client.reply(id, timeoutMs);
}

/** Connects a client for `user` and subscribes it; resolves with the client and its subscribe reply. */
async function member(ts: TestServer, user: string, channel: string): Promise<{ client: RawClient; subscribed: Push }> {
  const client = await connectRaw(ts.wsUrl, await mintToken({ sub: user, info: { name: user } }));
  const reply = await command(client, 'subscribe', { channel });
  assert.ok(reply.subscribe, `subscribe refused: ${JSON.stringify(reply.error)}`);
  return { client, subscribed: reply.subscribe };
}

async function presenceStats(client: RawClient, channel: string): Promise<{ num_clients?: number; num_users?: number }> {
  return (await command(client, 'presence_stats', { channel })).presence_stats;
}

describe('presence: a crowd in one room', { timeout: 300_000 }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      // Raw clients do not answer pings: none is due while the test runs.
      flags: ['--command-rate-limit', '100000', '--command-burst', '100000', '--ping-interval', '1h'],
      file: { namespaces: { small: { presence: true, joinLeave: true, joinLeaveMaxClients: 5 } } },
    });
  });
  after(async () => {
    await ts?.stop();
  });

  test(`${CROWD} clients storm into room:general while messages are published: none dropped, none lost, joins bounded, counts exact`, async () => {
    const channel = 'room:general';
    const observer = await connectRaw(ts.wsUrl, await mintToken({ sub: 'observer' }));
    const publisher = await connectRaw(ts.wsUrl, await mintToken({ sub: 'publisher' }));
    let publishing = true;
    let published = 0;
    const publishes = (async () => {
      while (publishing) {
        const reply = await command(publisher, 'publish', { channel, data: { text: `message ${published}` } });
        assert.ok(reply.publish, `publish refused: ${JSON.stringify(reply.error)}`);
        published++;
        await delay(PUBLISH_INTERVAL_MS);
      }
    })();

    const crowd: { client: RawClient; subscribed: Push }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < CROWD) {
          const index = next++;
          crowd.push(await member(ts, `user${index}`, channel));
        }
      }),
    );
    publishing = false;
    await publishes;
    assert.ok(published > 0, 'messages were published while the crowd connected');
    const last = await command(publisher, 'publish', { channel, data: { text: 'last' } });
    assert.ok(last.publish);
    const top = (await command(observer, 'history', { channel, limit: 0 })).history.offset as number;

    // Every client gets every publication after its subscribe reply, in order, once.
    await waitFor(() => crowd.every(({ client }) => pushes(client, 'pub', channel).at(-1)?.offset === top), {
      timeoutMs: 60_000,
      message: 'the last publication at every client',
    }).catch((error: unknown) => {
      const missing = crowd.filter(({ client }) => pushes(client, 'pub', channel).at(-1)?.offset !== top);
      const sample = missing.slice(0, 3).map(({ client, subscribed }) => ({
        subscribedAt: subscribed.offset,
        received: pushes(client, 'pub', channel).map((pub) => pub.offset),
        closed: client.closed,
      }));
      throw new Error(`${missing.length} clients lack publication ${top}: ${JSON.stringify(sample)}`, { cause: error });
    });
    for (const { client, subscribed } of crowd) {
      const offsets = pushes(client, 'pub', channel).map((pub) => pub.offset as number);
      const from = (subscribed.offset as number | undefined) ?? 0;
      assert.deepEqual(offsets, Array.from({ length: top - from }, (_, i) => from + 1 + i));
      assert.equal(client.closed, undefined, 'no client was disconnected');
    }

    // Join pushes stop above the limit: each client got at most JOIN_LEAVE_MAX, the crowd at most the first ones' share.
    const joins = crowd.map(({ client }) => pushes(client, 'join', channel).length);
    assert.ok(Math.max(...joins) <= JOIN_LEAVE_MAX, `at most ${JOIN_LEAVE_MAX} joins per client (got ${Math.max(...joins)})`);
    const total = joins.reduce((sum, n) => sum + n, 0);
    assert.ok(total <= (JOIN_LEAVE_MAX * (JOIN_LEAVE_MAX + 1)) / 2, `join pushes bounded (got ${total})`);
    assert.ok(total > 0, 'the first clients did see joins');

    // Counts stay exact; a full list is refused, on the protocol and in the server API.
    assert.deepEqual(await presenceStats(observer, channel), { num_clients: CROWD, num_users: CROWD });
    const refused = await command(observer, 'presence', { channel });
    assert.equal(refused.error?.code, 106);
    assert.match(refused.error?.message, /1500 clients.*more than the 1000.*presence_stats/);
    const viaApi = await apiCall(ts, 'presence', { channel });
    assert.equal(viaApi.body.error?.code, 106);
    const statsViaApi = await apiCall(ts, 'presence_stats', { channel });
    assert.deepEqual(statsViaApi.body.result, { num_clients: CROWD, num_users: CROWD });
    const members = await command(observer, 'rpc', { method: 'chat.members', data: { channel } });
    assert.equal(members.rpc?.data?.live, false, 'a crowded room is not live');

    // Most leave: silent until the room is back to 80% of the limit, then pushed again.
    const stay = crowd.slice(0, 70);
    for (const { client } of crowd.slice(70)) client.close();
    await waitFor(async () => (await presenceStats(observer, channel)).num_clients === stay.length, {
      timeoutMs: 60_000,
      message: 'the leavers gone from presence',
    });
    const leaves = stay.map(({ client }) => pushes(client, 'leave', channel).length);
    // The 11 leaves that took the room from 81 to 70, and maybe a few that raced with the switch.
    assert.ok(Math.max(...leaves) <= 0.2 * JOIN_LEAVE_MAX, `only the last leaves were pushed (got ${Math.max(...leaves)})`);
    const liveAgain = await command(observer, 'rpc', { method: 'chat.members', data: { channel } });
    assert.equal(liveAgain.rpc?.data?.live, true, 'live again once small');
    const late = await member(ts, 'late', channel);
    await waitFor(() => stay.every(({ client }) => pushes(client, 'join', channel).some((join) => join.info.user === 'late')), {
      message: "the latecomer's join at everyone who stayed",
    });
    const listed = await command(late.client, 'presence', { channel });
    assert.equal(Object.keys(listed.presence.presence).length, stay.length + 1, 'a small room lists its presence');
    for (const { client } of [...stay, late]) client.close();
    observer.close();
    publisher.close();
  });

  test('join and leave events switch off above the limit and on again at 80% of it, without flapping in between', async () => {
    const channel = 'small:hysteresis';
    const watcher = await member(ts, 'watcher', channel);
    const others: RawClient[] = [];
    const count = async (n: number) =>
      waitFor(async () => (await presenceStats(watcher.client, channel)).num_clients === n, { message: `${n} present` });
    // A publication after each step: pushes sent before it arrive before it.
    const settle = async (label: string) => {
      const reply = await command(watcher.client, 'publish', { channel, data: { label } });
      assert.ok(reply.publish);
      await waitFor(() => pushes(watcher.client, 'pub', channel).some((pub) => pub.data.label === label), { message: label });
    };
    const seen = () => ({ joins: pushes(watcher.client, 'join', channel).length, leaves: pushes(watcher.client, 'leave', channel).length });

    for (let n = 2; n <= 7; n++) {
      others.push((await member(ts, `person${n}`, channel)).client);
      await count(n);
    }
    await settle('seven present');
    // Own join, then 2..5; the 6th and 7th went unannounced.
    assert.deepEqual(seen(), { joins: 5, leaves: 0 });

    others.pop()?.close(); // 6 left: still above 80% of 5
    await count(6);
    others.pop()?.close(); // 5: at the limit but above 4, still quiet
    await count(5);
    await settle('five present');
    assert.deepEqual(seen(), { joins: 5, leaves: 0 });

    others.pop()?.close(); // 4: resumes, and this leave is pushed
    await count(4);
    others.push((await member(ts, 'person-back', channel)).client); // 5: pushed
    await count(5);
    others.push((await member(ts, 'person-over', channel)).client); // 6: above the limit again, quiet
    await count(6);
    await settle('six again');
    assert.deepEqual(seen(), { joins: 6, leaves: 1 });
    for (const client of [watcher.client, ...others]) client.close();
  });
});
