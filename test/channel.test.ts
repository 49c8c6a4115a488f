/** Channel names, namespaces and who may do what on them. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PermissionSet } from '../src/auth/permissions.js';
import { isAllowed } from '../src/channel/access.js';
import { ChannelResolver } from '../src/channel/channel.js';
import { loadConfig } from '../src/config/schema.js';

const config = await loadConfig({ argv: [], env: {}, cwd: '/tmp' });
const channels = new ChannelResolver(config);

describe('ChannelResolver', () => {
  test('resolves namespaces, members and history', () => {
    const room = channels.resolve('room:general');
    assert.equal(room.namespace, 'room');
    assert.equal(room.historyEnabled, true);
    assert.equal(room.options.joinLeave, true);
    const dm = channels.resolve('dm:alice,bob');
    assert.deepEqual(dm.members, ['alice', 'bob']);
    assert.deepEqual(channels.resolve('user:carol').members, ['carol']);
    const plain = channels.resolve('news');
    assert.equal(plain.namespace, '');
    assert.equal(plain.historyEnabled, false);
  });

  test('observable rooms: default-namespace channels named observable-* keep presence and join/leave', () => {
    const room = channels.resolve('observable-room');
    assert.equal(room.namespace, '');
    assert.equal(room.options.presence, true);
    assert.equal(room.options.joinLeave, true);
    assert.deepEqual({ ...room.options, presence: false, joinLeave: false }, { ...config.defaultNamespace });
    assert.equal(channels.resolve('observable-').options.presence, true);
    for (const name of ['news', 'private-room-alice', 'my-observable-room', 'Observable-room']) {
      const spec = channels.resolve(name);
      assert.equal(spec.options, config.defaultNamespace, name);
      assert.equal(spec.options.presence, false, name);
    }
    // Only the default namespace: a namespaced channel keeps its namespace's options.
    assert.equal(channels.resolve('room:observable-x').options, config.namespaces.room);
    assert.throws(() => channels.resolve('observable-x:y'), { code: 102 });
  });

  test('observable rooms keep every other option of the configured default namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-channel-'));
    const configPath = join(dir, 'parley.config.json');
    writeFileSync(configPath, JSON.stringify({ defaultNamespace: { historySize: 20, recover: true, allowPublish: false } }));
    const custom = await loadConfig({ argv: [], env: {}, cwd: dir, configPath });
    rmSync(dir, { recursive: true, force: true });
    const resolver = new ChannelResolver(custom);
    const observable = resolver.resolve('observable-room');
    assert.deepEqual(observable.options, { ...custom.defaultNamespace, presence: true, joinLeave: true });
    assert.equal(observable.historyEnabled, true);
    assert.equal(observable.options.allowPublish, false);
    assert.ok(Object.isFrozen(observable.options));
    assert.equal(resolver.resolve('plain').options.presence, false);
    assert.equal(resolver.resolve('plain').options.historySize, 20);
  });

  test('refuses malformed names (107) and unknown namespaces or member lists (102)', () => {
    assert.throws(() => channels.resolve(''), { code: 107 });
    assert.throws(() => channels.resolve(42), { code: 107 });
    assert.throws(() => channels.resolve('room:a b'), { code: 107 });
    assert.throws(() => channels.resolve('room:\u0000'), { code: 107 });
    assert.throws(() => channels.resolve(`room:${'x'.repeat(300)}`), { code: 107 });
    assert.throws(() => channels.resolve('nope:x'), { code: 102 });
    assert.throws(() => channels.resolve('dm:bob,alice'), { code: 102 });
    assert.throws(() => channels.resolve('dm:alice,'), { code: 102 });
  });
});

describe('isAllowed', () => {
  const alice = { user: 'alice' };
  test('namespace rules: rooms are open, DMs are for their members, user channels for their owner', () => {
    assert.equal(isAllowed('publish', channels.resolve('room:x'), alice), true);
    assert.equal(isAllowed('subscribe', channels.resolve('dm:alice,bob'), alice), true);
    assert.equal(isAllowed('history', channels.resolve('dm:alice,bob'), alice), true);
    assert.equal(isAllowed('subscribe', channels.resolve('dm:bob,carol'), alice), false);
    assert.equal(isAllowed('subscribe', channels.resolve('user:alice'), alice), true);
    assert.equal(isAllowed('subscribe', channels.resolve('user:bob'), alice), false);
    assert.equal(isAllowed('publish', channels.resolve('user:alice'), alice), false);
    assert.equal(isAllowed('subscribe', channels.resolve('dm:alice,bob'), { user: '' }), false);
  });

  test('a permissions claim decides alone, even against the namespace rules', () => {
    const permissions = PermissionSet.fromClaim({ '^user:bob$': { subscribe: true } });
    const principal = { user: 'alice', permissions };
    assert.equal(isAllowed('subscribe', channels.resolve('user:bob'), principal), true);
    assert.equal(isAllowed('subscribe', channels.resolve('room:x'), principal), false);
  });
});
