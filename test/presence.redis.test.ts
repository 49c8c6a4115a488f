import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisPresence } from '../src/presence/redis-presence.js';
import { runPresenceLedgerContract } from './contracts/presence-ledger-contract.js';
import { runPresenceContract } from './contracts/presence-contract.js';
import { connectRedis, deleteKeys, reconnectingClient, REDIS_URL, uniquePrefix, type TestRedisClient } from './helpers/redis-service.js';

runPresenceContract('redis', async (count) => {
  // Separate nodes: one client and one manager each, on one key prefix and one manual clock.
  const prefix = uniquePrefix('presence');
  let now = Date.now();
  const clients = await Promise.all(Array.from({ length: count }, () => connectRedis()));
  return {
    managers: clients.map((client) => new RedisPresence(client, { prefix, now: () => now })),
    advance: async (ms) => {
      now += ms;
    },
    cleanup: async () => {
      await deleteKeys(clients[0]!, prefix);
      await Promise.all(clients.map((client) => client.close()));
    },
  };
});

runPresenceLedgerContract('redis', async (ids) => {
  const prefix = uniquePrefix('presence-ledger');
  const clients = new Map(await Promise.all(ids.map(async (id) => [id, await reconnectingClient(REDIS_URL)] as const)));
  const nodes = new Map(ids.map((id) => {
    const presence = new RedisPresence(clients.get(id)!, { prefix, node: id });
    return [id, { presence, ledger: presence }];
  }));
  return {
    nodes,
    // Closing the server side of the connection makes node-redis reconnect, as when Redis restarts.
    reconnect: async (id) => {
      const target = await clients.get(id)!.clientId();
      const admin = await connectRedis();
      try {
        assert.equal(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(target)]), 1);
      } finally {
        await admin.close();
      }
    },
    cleanup: async () => {
      await deleteKeys(clients.get(ids[0]!)!, prefix);
      await Promise.all([...clients.values()].map((client) => client.close()));
    },
  };
});

describe('RedisPresence on the real service', () => {
  let client: TestRedisClient;
  let prefix: string;
  before(async () => {
    client = await connectRedis();
    prefix = uniquePrefix('presence-big');
  });
  after(async () => {
    await deleteKeys(client, prefix);
    await client.close();
  });

  test('keys share the channel hash tag and all carry an expiry; an emptied channel leaves no key', async () => {
    const presence = new RedisPresence(client, { prefix });
    await presence.add('room:tags', { user: 'ann', client: 'c1' }, 60_000);
    await presence.users('room:tags');
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...batch);
    assert.deepEqual(keys.sort(), ['expiry', 'info', 'users', 'version'].map((k) => `${prefix}{room:tags}:${k}`));
    for (const key of keys) {
      const ttl = await client.pTTL(key);
      assert.ok(ttl > 0 && ttl <= 60_000, `${key} expires (pttl ${ttl})`);
    }
    await presence.remove('room:tags', 'c1');
    assert.equal(await deleteKeys(client, `${prefix}{room:tags}`), 0);
  });

  test('10,000 entries in one channel: counts stay exact, expired ones drop out, and an unchanged user set is not sent again', async () => {
    let now = Date.now();
    const [a, b] = [new RedisPresence(client, { prefix, now: () => now }), new RedisPresence(client, { prefix, now: () => now })];
    const channel = 'room:crowd';
    // 8,000 users: users 0–1,999 have two connections, the rest one.
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ user: `u${i % 8_000}`, client: `c${i}` }));
    await Promise.all(entries.slice(0, 5_000).map((info) => a.add(channel, info, 60_000)));
    await Promise.all(entries.slice(5_000).map((info) => b.add(channel, info, 30_000)));
    assert.deepEqual(await a.stats(channel), { numClients: 10_000, numUsers: 8_000 });

    const users = await b.users(channel);
    assert.equal(users.size, 8_000);
    assert.deepEqual([users.has('u0'), users.has('u7999'), users.has('u8000')], [true, true, false]);
    assert.equal(await b.users(channel), users, 'membership unchanged: the set held is still current');
    assert.equal((await a.get(channel)).size, 10_000);

    // Another tab of a present user changes no membership; a new user does, on every node.
    await a.add(channel, { user: 'u1', client: 'extra' }, 60_000);
    assert.equal(await b.users(channel), users);
    await a.add(channel, { user: 'newcomer', client: 'new' }, 60_000);
    const changed = await b.users(channel);
    assert.notEqual(changed, users);
    assert.deepEqual([changed.size, changed.has('newcomer')], [8_001, true]);

    // The 5,000 entries added with the shorter TTL expire: c5000–c9999, users u5000–u7999 gone, u0–u1999 keep one connection.
    now += 45_000;
    assert.deepEqual(await b.stats(channel), { numClients: 5_002, numUsers: 5_001 });
    const remaining = await a.users(channel);
    assert.deepEqual([remaining.size, remaining.has('u0'), remaining.has('u4999'), remaining.has('u5000')], [5_001, true, true, false]);
    assert.equal((await b.get(channel)).size, 5_002);
    assert.equal(await client.zCard(`${prefix}{${channel}}:expiry`), 5_002, 'expired entries are deleted, not only hidden');

    now += 60_000;
    assert.deepEqual(await a.stats(channel), { numClients: 0, numUsers: 0 });
    assert.equal((await a.users(channel)).size, 0);
    assert.equal(await deleteKeys(client, `${prefix}{${channel}}`), 0, 'an expired channel leaves no key');
  });

  test('a channel whose keys expired and came back is never answered with the user set read before', async () => {
    const [a, b] = [new RedisPresence(client, { prefix }), new RedisPresence(client, { prefix })];
    await a.add('room:again', { user: 'ann', client: 'c1' }, 60_000);
    assert.deepEqual([...((await b.users('room:again')) as Set<string>)], ['ann']);
    // What key expiry does to an abandoned channel, without waiting for it.
    await client.del(['info', 'expiry', 'users', 'version'].map((k) => `${prefix}{room:again}:${k}`));
    await a.add('room:again', { user: 'bob', client: 'c2' }, 60_000);
    const users = await b.users('room:again');
    assert.deepEqual([users.has('bob'), users.has('ann'), users.size], [true, false, 1]);
  });

  test('a script Redis answers NOSCRIPT for is sent whole and runs', async () => {
    // Asking for a SHA no script has makes the real server answer NOSCRIPT, as after a restart (the shared script cache is never flushed here).
    let noscripts = 0;
    const forgetful = {
      evalSha: (_sha: string, options: { keys: string[]; arguments: string[] }) =>
        client.evalSha('0'.repeat(40), options).catch((error: Error) => {
          noscripts += error.message.startsWith('NOSCRIPT') ? 1 : 0;
          throw error;
        }),
      eval: (script: string, options: { keys: string[]; arguments: string[] }) => client.eval(script, options),
    };
    const presence = new RedisPresence(forgetful, { prefix });
    await presence.add('room:load', { user: 'ann', client: 'c1' }, 60_000);
    assert.deepEqual(await presence.stats('room:load'), { numClients: 1, numUsers: 1 });
    assert.equal(noscripts, 2);
  });
});
