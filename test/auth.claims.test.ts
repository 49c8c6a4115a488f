import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { parseConnectionClaims, parseSubscriptionClaims } from '../src/auth/claims.js';
import { TokenError, verifyToken } from '../src/auth/jwt.js';
import { PermissionSet } from '../src/auth/permissions.js';
import { RegexGuard } from '../src/auth/regex-guard.js';

const SECRET = 'parley-claims-secret-0123456789abcdef';
const NOW = 1_700_000_000;

/** TokenError messages become close reasons: short, and never JSON (clients read JSON reasons as reconnect advice). */
function assertUsableAsCloseReason(message: string): void {
  assert.ok(Buffer.byteLength(message) < 123, `message too long for a close reason: ${message}`);
  assert.throws(() => JSON.parse(message));
}

function claimsError(fn: () => unknown, claim: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TokenError);
    assert.equal(error.kind, 'claims');
    assertUsableAsCloseReason(error.message);
    assert.ok(error.message.includes(`"${claim}"`), `message names ${claim}: ${error.message}`);
    return true;
  });
}

test('a Scaledrone tutorial token becomes connection credentials', async () => {
  const token = await new SignJWT({
    client: 'alice',
    channel: 'scaledrone-channel-id',
    data: { name: 'misty_river', color: '#a1b2c3' },
    permissions: {
      '^observable-room$': { publish: true, subscribe: true },
      '^private-room-alice$': { publish: false, subscribe: true },
      '^private-room-(?!alice$).+$': { publish: true, subscribe: false },
    },
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(NOW + 180)
    .sign(new TextEncoder().encode(SECRET));

  const credentials = parseConnectionClaims(verifyToken(token, SECRET, NOW));
  assert.equal(credentials.user, 'alice');
  assert.deepEqual(credentials.info, { name: 'misty_river', color: '#a1b2c3' });
  assert.equal(credentials.expiresAt, NOW + 180);
  assert.deepEqual(credentials.channels, []);
  const permissions = credentials.permissions;
  assert.ok(permissions instanceof PermissionSet);
  assert.equal(permissions.allows('publish', 'observable-room'), true);
  assert.equal(permissions.allows('presence', 'observable-room'), true);
  assert.equal(permissions.allows('subscribe', 'private-room-alice'), true);
  assert.equal(permissions.allows('publish', 'private-room-alice'), false);
  assert.equal(permissions.allows('publish', 'private-room-bob'), true);
  assert.equal(permissions.allows('subscribe', 'private-room-bob'), false);
});

test('Centrifugo-style connection claims', () => {
  const credentials = parseConnectionClaims({
    sub: 'bob',
    info: { name: 'Bob' },
    channels: ['news', 'chat:lobby', 'news'],
    exp: NOW + 60,
    iat: NOW,
    meta: { plan: 'pro' },
  });
  assert.deepEqual(credentials, {
    user: 'bob',
    info: { name: 'Bob' },
    channels: ['news', 'chat:lobby'],
    expiresAt: NOW + 60,
  });
  assert.equal('permissions' in credentials, false);
});

test('sub and info take precedence over client and data', () => {
  const both = parseConnectionClaims({ sub: 'bob', client: 'alice', info: 'from-info', data: 'from-data' });
  assert.equal(both.user, 'bob');
  assert.equal(both.info, 'from-info');
  // Present but empty or null still wins: "" is the anonymous user, null is JSON.
  const empty = parseConnectionClaims({ sub: '', client: 'alice', info: null, data: 'from-data' });
  assert.equal(empty.user, '');
  assert.equal(empty.info, null);
  assert.ok('info' in empty);
  // A client claim of the wrong type does not matter once sub decides.
  assert.equal(parseConnectionClaims({ sub: 'bob', client: 42 }).user, 'bob');
});

test('no user claim means anonymous, no info claim means no info', () => {
  const credentials = parseConnectionClaims({});
  assert.deepEqual(credentials, { user: '', channels: [] });
  assert.equal('info' in credentials, false);
  assert.equal('expiresAt' in credentials, false);
});

test('claims of the wrong type are rejected, naming the claim', () => {
  claimsError(() => parseConnectionClaims({ sub: 42 }), 'sub');
  claimsError(() => parseConnectionClaims({ sub: null }), 'sub');
  claimsError(() => parseConnectionClaims({ client: ['alice'] }), 'client');
  claimsError(() => parseConnectionClaims({ sub: 'x'.repeat(256) }), 'sub');
  assert.equal(parseConnectionClaims({ sub: 'x'.repeat(255) }).user.length, 255);
  claimsError(() => parseConnectionClaims({ channels: 'news' }), 'channels');
  claimsError(() => parseConnectionClaims({ channels: ['news', 7] }), 'channels');
  claimsError(() => parseConnectionClaims({ channels: [''] }), 'channels');
  claimsError(() => parseConnectionClaims({ channels: ['x'.repeat(256)] }), 'channels');
  claimsError(() => parseConnectionClaims({ exp: 'tomorrow' }), 'exp');
  claimsError(() => parseConnectionClaims({ permissions: null }), 'permissions');
  claimsError(() => parseConnectionClaims({ permissions: { '(': { subscribe: true } } }), 'permissions');
  claimsError(() => parseConnectionClaims({ permissions: { '^a$': { publish: 'yes' } } }), 'permissions');
  claimsError(() => parseConnectionClaims({ sub: 'ann', sid: 7 }), 'sid');
  claimsError(() => parseConnectionClaims({ sub: 'ann', sid: '' }), 'sid');
  claimsError(() => parseConnectionClaims({ sub: 'ann', sid: 'x'.repeat(65) }), 'sid');
});

test('an account session id (sid) is kept with the credentials, for the checks on connect and refresh', () => {
  assert.equal(parseConnectionClaims({ sub: 'ann', sid: 'Zq3-_x' }).session, 'Zq3-_x');
  assert.equal(parseConnectionClaims({ sub: 'ann' }).session, undefined);
});

test('a configured regex guard is used for the permissions', () => {
  const patterns: string[] = [];
  const regexGuard = new RegexGuard({ onTimeout: (event) => patterns.push(event.pattern) });
  const credentials = parseConnectionClaims(
    { sub: 'mallory', permissions: { '^(a+)+$': { subscribe: true } } },
    { regexGuard },
  );
  assert.equal(credentials.permissions?.allows('subscribe', 'a'.repeat(40) + '!'), false);
  assert.deepEqual(patterns, ['^(a+)+$']);
});

test('subscription claims', () => {
  assert.deepEqual(
    parseSubscriptionClaims({ sub: 'bob', channel: 'chat:lobby', info: { role: 'mod' }, exp: NOW + 60 }),
    { user: 'bob', channel: 'chat:lobby', info: { role: 'mod' }, expiresAt: NOW + 60 },
  );
  assert.deepEqual(parseSubscriptionClaims({ sub: '', channel: 'public' }), { user: '', channel: 'public' });
  assert.deepEqual(parseSubscriptionClaims({ channel: 'public' }), { user: '', channel: 'public' });
  assert.deepEqual(parseSubscriptionClaims({ client: 'alice', channel: 'room', data: { color: 'red' } }), {
    user: 'alice',
    channel: 'room',
    info: { color: 'red' },
  });
  assert.equal(parseSubscriptionClaims({ sub: 'bob', client: 'alice', channel: 'room' }).user, 'bob');
});

test('subscription claims of the wrong type are rejected, naming the claim', () => {
  claimsError(() => parseSubscriptionClaims({ sub: 'bob' }), 'channel');
  claimsError(() => parseSubscriptionClaims({ sub: 'bob', channel: 7 }), 'channel');
  claimsError(() => parseSubscriptionClaims({ sub: 'bob', channel: '' }), 'channel');
  claimsError(() => parseSubscriptionClaims({ sub: 'bob', channel: 'x'.repeat(256) }), 'channel');
  claimsError(() => parseSubscriptionClaims({ sub: 7, channel: 'room' }), 'sub');
  claimsError(() => parseSubscriptionClaims({ channel: 'room', exp: '1' }), 'exp');
});

test('Centrifugo claims: expire_at decides the expiry (0: never), b64info carries JSON info', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
  const lasting = parseConnectionClaims({ sub: 'bob', exp: NOW + 60, expire_at: NOW + 3600, b64info: b64({ name: 'Bob' }) });
  assert.equal(lasting.expiresAt, NOW + 3600);
  assert.deepEqual(lasting.info, { name: 'Bob' });
  const forever = parseConnectionClaims({ sub: 'bob', exp: NOW + 60, expire_at: 0 });
  assert.equal('expiresAt' in forever, false);
  assert.equal(parseSubscriptionClaims({ sub: 'bob', channel: 'news', exp: NOW + 60, expire_at: NOW + 90 }).expiresAt, NOW + 90);
  assert.deepEqual(parseSubscriptionClaims({ channel: 'news', b64info: b64([1, 2]) }).info, [1, 2]);
  // A non-empty b64info wins over info, as in Centrifugo (and in the backend proxy's answers).
  assert.equal(parseConnectionClaims({ info: 'plain', b64info: b64('encoded') }).info, 'encoded');
  assert.equal(parseConnectionClaims({ info: 'plain', b64info: '' }).info, 'plain');
  claimsError(() => parseConnectionClaims({ expire_at: 'later' }), 'expire_at');
  claimsError(() => parseConnectionClaims({ expire_at: -1 }), 'expire_at');
  claimsError(() => parseConnectionClaims({ b64info: 42 }), 'b64info');
  claimsError(() => parseConnectionClaims({ b64info: Buffer.from([0xff, 0x00]).toString('base64') }), 'b64info');
  claimsError(() => parseConnectionClaims({ b64info: 'not base64!' }), 'b64info');
});

test('Centrifugo claims: subs adds server-side subscriptions with info and data', () => {
  const credentials = parseConnectionClaims({
    sub: 'bob',
    channels: ['news'],
    subs: {
      'room:lobby': { info: { seat: 3 }, data: { welcome: 'hi' }, override: { presence: { value: false } } },
      news: { b64data: Buffer.from('{"n":1}').toString('base64') },
      'room:quiet': {},
    },
  });
  assert.deepEqual(credentials.channels, ['news', 'room:lobby', 'room:quiet']);
  assert.deepEqual(credentials.subscriptionOptions?.get('room:lobby'), { info: { seat: 3 }, data: { welcome: 'hi' } });
  assert.deepEqual(credentials.subscriptionOptions?.get('news'), { data: { n: 1 } });
  assert.deepEqual(credentials.subscriptionOptions?.get('room:quiet'), {});
  claimsError(() => parseConnectionClaims({ subs: ['news'] }), 'subs');
  claimsError(() => parseConnectionClaims({ subs: { news: true } }), 'subs');
  claimsError(() => parseConnectionClaims({ subs: { '': {} } }), 'subs');
  claimsError(() => parseConnectionClaims({ subs: { news: { b64data: '%%' } } }), 'b64data');
});
