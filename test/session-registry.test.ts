/** The node's registry of sessions: counts and lookups by user, whether a user has one connection or several. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionRegistry, type SessionHandle } from '../src/node/session-registry.js';

function session(clientId: string, user: string, accountSession?: string): SessionHandle {
  const noop = () => undefined;
  return {
    clientId,
    user,
    accountSession,
    drain: noop,
    shutdown: noop,
    disconnect: noop,
    subscribeFromServer: async () => false,
    unsubscribeFromServer: async () => 0,
  };
}

test('users with one and with several connections are counted and found; removal undoes each step', () => {
  const registry = new SessionRegistry();
  const alice1 = session('a1', 'alice');
  const alice2 = session('a2', 'alice');
  const alice3 = session('a3', 'alice', 'phone');
  const bob = session('b1', 'bob');
  for (const s of [alice1, alice2, alice3, bob]) registry.add(s);
  assert.equal(registry.size, 4);
  assert.equal(registry.connections, 0, 'not connected yet: not reachable by user');
  assert.deepEqual(registry.connectionsOf('alice'), []);

  registry.connected(alice1);
  registry.connected(alice1);
  registry.connected(bob);
  assert.equal(registry.connections, 2, 'a repeated connected() counts once');
  assert.deepEqual(registry.connectionsOf('alice'), [alice1]);
  registry.connected(alice2);
  registry.connected(alice3);
  registry.connected(alice2);
  assert.equal(registry.connections, 4);
  assert.equal(registry.users, 2);
  assert.deepEqual(registry.connectionsOf('alice').map((s) => s.clientId), ['a1', 'a2', 'a3']);
  assert.deepEqual(registry.connectionsOf('alice', { client: 'a2' }), [alice2]);
  assert.deepEqual(registry.connectionsOf('alice', { except: ['a1', 'a3'] }), [alice2]);
  assert.deepEqual(registry.connectionsOf('alice', { accountSession: 'phone' }), [alice3], 'the connections of one account session');
  assert.deepEqual(registry.connectionsOf('alice', { accountSession: 'laptop' }), []);

  registry.remove(alice2);
  registry.remove(alice2);
  assert.equal(registry.connections, 3, 'a repeated remove() counts once');
  assert.deepEqual(registry.connectionsOf('alice').map((s) => s.clientId), ['a1', 'a3']);
  registry.remove(alice1);
  registry.remove(alice3);
  registry.remove(bob);
  assert.equal(registry.connections, 0);
  assert.equal(registry.users, 0);
  assert.equal(registry.size, 0);
  assert.deepEqual(registry.connectionsOf('alice'), []);

  const carol = session('c1', 'carol');
  registry.connected(carol);
  assert.equal(registry.connections, 0, 'a session never added is not registered');
});
