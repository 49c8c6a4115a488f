/** Channel names, namespaces and who may do what on them. */
import assert from 'node:assert/strict';
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
