/**
 * Guest sign-in for the web app (`/app/*`) and what a connection's token
 * makes of a chat profile: random names and palette colors, emails reduced
 * to their Gravatar hash and never shown to anyone, refresh and sign-out,
 * guest sign-in turned off, rate limits.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME_ADJECTIVES, NAME_NOUNS, USER_COLORS, colorForUser } from '../src/chat/names.js';
import { ConfigError, loadConfig } from '../src/config/schema.js';
import { verifyToken } from '../src/auth/jwt.js';
import {
  connectChat,
  getJson,
  guestClient,
  httpBase,
  postJson,
  sessionCookieValue,
  signInGuest,
  waitForEvent,
  assertRpcError,
  type HttpAnswer,
} from './helpers/chat.js';
import { disconnectAll, eventsOf, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, TEST_SECRET, type TestServer } from './helpers/server.js';

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** WCAG contrast ratio between two #rrggbb colors. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string): number => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const v = parseInt(hex.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('chat: names and colors', () => {
  test('every palette color is readable on light and dark backgrounds', () => {
    assert.ok(USER_COLORS.length >= 12);
    for (const color of USER_COLORS) {
      assert.match(color, /^#[0-9a-f]{6}$/);
      assert.ok(contrast(color, '#ffffff') >= 3, `${color} on white`);
      assert.ok(contrast(color, '#1a1b1e') >= 3, `${color} on dark`);
    }
    assert.equal(new Set(USER_COLORS).size, USER_COLORS.length);
  });

  test('a user id always gets the same palette color', () => {
    assert.equal(colorForUser('alice'), colorForUser('alice'));
    assert.ok(USER_COLORS.includes(colorForUser('alice')));
    const spread = new Set(Array.from({ length: 200 }, (_, i) => colorForUser(`user-${i}`)));
    assert.ok(spread.size > USER_COLORS.length / 2, 'ids spread over the palette');
  });
});

describe('chat: guest sign-in', () => {
  let ts: TestServer;
  // All sign-ins come from 127.0.0.1: this file's server must stay under the per-IP limit.
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('/app/config tells the app that guests may sign in', async () => {
    const answer = await getJson(ts, '/app/config');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      authMode: 'guest',
      guestSignIn: true,
      maxMessageLength: 4000,
      firstAccount: true,
      minPasswordLength: 8,
      maxPasswordLength: 256,
    });
  });

  test('a blank name gets a random adjective_noun name and a palette color', async () => {
    for (const name of [undefined, '', '   ']) {
      const guest = await signInGuest(ts, name === undefined ? {} : { name });
      const [adjective, noun, ...rest] = guest.user.name.split('_');
      assert.equal(rest.length, 0, guest.user.name);
      assert.ok(NAME_ADJECTIVES.includes(adjective!), guest.user.name);
      assert.ok(NAME_NOUNS.includes(noun!), guest.user.name);
      assert.ok(USER_COLORS.includes(guest.user.color), guest.user.color);
      assert.match(guest.user.id, /^g_[0-9a-z]+$/);
      assert.equal(guest.user.avatar, undefined);
      assert.match(guest.refreshToken, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
    }
  });

  test('the connection token carries the profile, expires in an hour, and connects', async () => {
    const guest = await signInGuest(ts, { name: '  Ada \t  Lovelace ' });
    assert.equal(guest.user.name, 'Ada Lovelace', 'trimmed, whitespace collapsed');
    const claims = verifyToken(guest.token, TEST_SECRET);
    assert.equal(claims.sub, guest.user.id);
    assert.deepEqual(claims.info, { name: 'Ada Lovelace', color: guest.user.color });
    const ttl = (claims.exp as number) - Date.now() / 1000;
    assert.ok(ttl > 3500 && ttl <= 3600, `expires in an hour (${ttl})`);
    const client = await connectChat(ts.wsUrl, guest.token);
    const { user } = await client.rpc('chat.bootstrap', {});
    assert.deepEqual(user, guest.user);
  });

  test('bad names and emails are refused with a message', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ name: 'x'.repeat(41) }, 400, /longer than 40 characters/],
      [{ name: 'bell\u0007' }, 400, /control characters/],
      [{ name: 42 }, 400, /name must be a string/],
      [{ email: 'not-an-email' }, 400, /email address does not look right/],
      [{ email: 'a@b' }, 400, /email address does not look right/],
      [{ email: ['x@y.z'] }, 400, /email must be a string/],
      [[1, 2], 400, /JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await postJson(ts, '/app/guest', body);
      assert.equal(answer.status, status, JSON.stringify(body));
      assert.match(answer.body.error, message);
    }
    const huge = await postJson(ts, '/app/guest', { name: 'x'.repeat(5000) });
    assert.equal(huge.status, 413, 'bodies are limited to 4 KiB');
    assert.match(huge.body.error, /too large/);
    const broken = await postJson(ts, '/app/guest', '{"email": "secret@example.com"', 'application/json');
    assert.equal(broken.status, 400);
    assert.deepEqual(Object.keys(broken.body), ['error']);
    assert.doesNotMatch(broken.body.error, /secret/, 'a body that is not JSON is not quoted back');
  });

  test('the email stays private: only its MD5 is kept, and nobody else ever sees even that as an email', async () => {
    const email = 'Grace.Secret@Example.com';
    const avatar = md5('grace.secret@example.com');
    const bob = await guestClient(ts, { name: 'Bob' });
    await bob.rpc('chat.bootstrap', {});
    const room = await subscribe(bob.client, 'room:general');

    const grace = await guestClient(ts, { name: 'Grace', email: ` ${email} ` });
    assert.equal(grace.user.avatar, avatar, 'lower-cased and trimmed before hashing');
    assert.doesNotMatch(JSON.stringify(grace.guest), /secret|example/i, 'not even in her own sign-in answer');
    await grace.rpc('chat.bootstrap', {});
    await subscribe(grace.client, 'room:general');
    const [join] = await eventsOf(room, 'join');
    const sent = await grace.rpc('chat.send', { channel: 'room:general', text: 'hello from grace' });
    await waitForEvent(room, (e) => e.type === 'message' && e.message.id === sent.message.id, 'grace’s message');
    const refreshed = await postJson(ts, '/app/token', { refreshToken: grace.guest.refreshToken });

    const seenByBob = JSON.stringify([
      join,
      room.publications,
      await room.sub.presence(),
      await bob.rpc('chat.members', { channel: 'room:general' }),
      await bob.rpc('chat.history', { channel: 'room:general' }),
      await bob.rpc('chat.search', { query: 'grace' }),
      await bob.rpc('chat.rooms', {}),
      (await postJson(ts, '/app/token', { refreshToken: bob.guest.refreshToken })).body,
    ]);
    assert.match(seenByBob, new RegExp(avatar), 'the hash is what others see');
    assert.doesNotMatch(seenByBob, /secret|example\.com/i);
    assert.doesNotMatch(JSON.stringify(refreshed.body), /secret|example\.com/i);
    const logs = ts.logs.join('\n');
    assert.doesNotMatch(logs, /secret|example\.com/i, 'never logged');
    assert.ok(!logs.includes(grace.guest.refreshToken), 'refresh tokens are never logged');
    assert.ok(!logs.includes(grace.guest.token), 'tokens are never logged');
  });

  test('a refresh token gets new connection tokens until sign-out', async () => {
    const guest = await signInGuest(ts, { name: 'Refresher' });
    const refreshed = await postJson(ts, '/app/token', { refreshToken: guest.refreshToken });
    assert.equal(refreshed.status, 200);
    assert.equal(sessionCookieValue(refreshed.headers), guest.refreshToken, 'an app that kept the token in its storage gets the cookie and can forget it');
    assert.deepEqual(refreshed.body.user, guest.user);
    assert.equal(verifyToken(refreshed.body.token, TEST_SECRET).sub, guest.user.id);
    assert.equal(refreshed.headers.get('cache-control'), 'no-store');
    await connectChat(ts.wsUrl, refreshed.body.token);

    const out = await postJson(ts, '/app/signout', { refreshToken: guest.refreshToken });
    assert.equal(out.status, 204);
    const after = await postJson(ts, '/app/token', { refreshToken: guest.refreshToken });
    assert.equal(after.status, 401);
    assert.match(after.body.error, /sign in again/);
    const unknown = await postJson(ts, '/app/token', { refreshToken: 'never-issued' });
    assert.equal(unknown.status, 401);
    const malformed = await postJson(ts, '/app/token', { refreshToken: 7 });
    assert.equal(malformed.status, 401, 'a refresh token that is not a string signs in nobody');
  });

  test('tokens from other backends: name, color and avatar are used only when well formed', async () => {
    const plain = await connectChat(ts.wsUrl, await mintToken({ sub: 'ext-1' }));
    assert.deepEqual((await plain.rpc('chat.bootstrap', {})).user, { id: 'ext-1', name: 'ext-1', color: colorForUser('ext-1') });
    const named = await connectChat(
      ts.wsUrl,
      await mintToken({ sub: 'ext-2', info: { name: ' Eve ', color: 'red', avatar: 'eve@example.com', email: 'eve@example.com' } }),
    );
    assert.deepEqual((await named.rpc('chat.bootstrap', {})).user, { id: 'ext-2', name: 'Eve', color: colorForUser('ext-2') });
    const full = await connectChat(ts.wsUrl, await mintToken({ sub: 'ext-3', info: { name: 'Zed', color: '#123ABC', avatar: 'A'.repeat(32) } }));
    assert.deepEqual((await full.rpc('chat.bootstrap', {})).user, { id: 'ext-3', name: 'Zed', color: '#123ABC', avatar: 'a'.repeat(32) });
  });
});

describe('chat: anonymous connections', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ flags: ['--allow-anonymous'] });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('cannot use chat methods', async () => {
    const anonymous = await connectChat(ts.wsUrl, '');
    await assertRpcError(anonymous.rpc('chat.bootstrap', {}), 101, /Sign in/);
    await assertRpcError(anonymous.rpc('chat.send', { channel: 'room:general', text: 'hi' }), 101);
  });
});

describe('chat: guest sign-in turned off', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ flags: ['--no-guest-sign-in', '--token-url', 'https://example.org/parley-token'] });
  });
  after(async () => {
    await ts?.stop();
  });

  test('/app/config says so (authMode token) and /app/guest answers 403', async () => {
    assert.deepEqual((await getJson(ts, '/app/config')).body, {
      authMode: 'token',
      guestSignIn: false,
      tokenUrl: 'https://example.org/parley-token',
      maxMessageLength: 4000,
      firstAccount: true,
      minPasswordLength: 8,
      maxPasswordLength: 256,
    });
    const answer = await postJson(ts, '/app/guest', { name: 'Nope' });
    assert.equal(answer.status, 403);
    assert.match(answer.body.error, /turned off/);
    assert.equal((await postJson(ts, '/app/token', { refreshToken: 'x' })).status, 401, 'no session to renew');
  });
});

describe('chat: sign-in limits per address', () => {
  let ts: TestServer | undefined;
  afterEach(async () => {
    await ts?.stop();
    ts = undefined;
  });

  /** Sends `count` guest sign-ins from this address, `parallel` at a time; the answers in order. */
  async function signIns(server: TestServer, count: number, parallel = 50): Promise<HttpAnswer[]> {
    const answers: HttpAnswer[] = [];
    for (let sent = 0; sent < count; sent += parallel) {
      const batch = Array.from({ length: Math.min(parallel, count - sent) }, () => postJson(server, '/app/guest', {}));
      answers.push(...(await Promise.all(batch)));
    }
    return answers;
  }

  const retryAfterOf = (answer: HttpAnswer): number => Number(answer.headers.get('retry-after'));

  test('with the defaults, 200 people behind one address sign in at once; a flood of 2000 more is stopped with 429 and Retry-After', async () => {
    ts = await startTestServer();
    const { guestSignInBurst, guestSignInsPerMinute } = ts.config;
    const started = Date.now();
    const office = await signIns(ts, 200);
    assert.deepEqual(office.map((a) => a.status), Array(200).fill(200), 'the whole office gets in');
    assert.equal(new Set(office.map((a) => a.body.user.id)).size, 200, '200 distinct guests');

    const flood = await signIns(ts, 2000);
    const admitted = flood.filter((a) => a.status === 200).length;
    const elapsedMinutes = (Date.now() - started) / 60_000;
    const refused = flood.filter((a) => a.status === 429);
    assert.equal(admitted + refused.length, 2000, 'every answer is 200 or 429');
    assert.ok(
      200 + admitted <= guestSignInBurst + Math.ceil(elapsedMinutes * guestSignInsPerMinute) + 1,
      `${200 + admitted} sign-ins admitted: no more than the burst and the sustained rate allow`,
    );
    assert.ok(refused.length >= 2000 - guestSignInBurst, `the flood is stopped (${refused.length} refused)`);
    for (const answer of refused) {
      assert.match(answer.body.error, /^Too many sign-ins from your address; try again in \d+ seconds?$/);
      const wait = retryAfterOf(answer);
      assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 60, `Retry-After ${answer.headers.get('retry-after')}`);
    }
  });

  test('the limits are configuration: /app/guest, /app/token and POST /auth answer 429 with Retry-After past them', async () => {
    ts = await startTestServer({
      flags: ['--guest-sign-in-burst', '3', '--guest-sign-ins-per-minute', '1', '--token-request-burst', '2', '--token-requests-per-minute', '2'],
    });
    const guests = await signIns(ts, 4, 1);
    assert.deepEqual(guests.map((a) => a.status), [200, 200, 200, 429]);
    assert.ok(retryAfterOf(guests[3]!) > 30 && retryAfterOf(guests[3]!) <= 60, 'one sign-in a minute: wait most of a minute');

    const refreshToken = sessionCookieValue(guests[0]!.headers);
    const refreshes = [];
    for (let i = 0; i < 3; i++) refreshes.push(await postJson(ts, '/app/token', { refreshToken }));
    assert.deepEqual(refreshes.map((a) => a.status), [200, 200, 429]);
    assert.ok(retryAfterOf(refreshes[2]!) >= 1 && retryAfterOf(refreshes[2]!) <= 30);

    const auths = [];
    for (let i = 0; i < 3; i++) auths.push(await fetch(`${httpBase(ts)}/auth`, { method: 'POST', body: new URLSearchParams({ clientID: 'office-pc' }) }));
    assert.deepEqual(auths.map((r) => r.status), [200, 200, 429], 'POST /auth counts apart from /app/token');
    assert.match(await auths[2]!.text(), /^Too many requests from your address; try again in \d+ seconds?$/);
    assert.ok(Number(auths[2]!.headers.get('retry-after')) >= 1);
  });

  test('bad limit values stop start-up with one line naming the key', async () => {
    const cases: [string[], RegExp][] = [
      [['--guest-sign-in-burst', '0'], /^config: guestSignInBurst must be an integer >= 1 \(got "0" from flag --guest-sign-in-burst\)$/],
      [['--guest-sign-ins-per-minute', '-5'], /^config: guestSignInsPerMinute must be a number > 0/],
      [['--token-request-burst', 'lots'], /^config: tokenRequestBurst must be an integer >= 1/],
      [['--token-requests-per-minute', '0'], /^config: tokenRequestsPerMinute must be a number > 0/],
    ];
    const cwd = mkdtempSync(join(tmpdir(), 'parley-limits-'));
    for (const [argv, message] of cases) {
      await assert.rejects(loadConfig({ argv, env: {}, cwd }), (error: Error) => {
        assert.ok(error instanceof ConfigError, error.message);
        assert.match(error.message, message);
        return true;
      });
    }
    const defaults = await loadConfig({ argv: [], env: {}, cwd });
    assert.deepEqual(
      [defaults.guestSignInBurst, defaults.guestSignInsPerMinute, defaults.tokenRequestBurst, defaults.tokenRequestsPerMinute],
      [300, 60, 1000, 600],
    );
  });
});
