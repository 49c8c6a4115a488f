/**
 * Attacks on accounts: password guessing (from one address and spread over
 * many), look-alike usernames, telling which usernames exist, stealing or
 * planting the session cookie, cross-site requests, members calling admin
 * routes, and tokens outliving their session or account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Disconnects } from '../src/protocol/errors.js';
import { Device, PASSWORD, signIn, signUp } from './helpers/accounts.js';
import { httpBase } from './helpers/chat.js';
import { connectRaw, openRaw } from './helpers/raw-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';

const wrongSignIn = (device: Device, username: string) => device.post('/app/signin', { username, password: 'not the password' });

describe('account attacks', () => {
  let ts: TestServer;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let member: Awaited<ReturnType<typeof signUp>>;
  before(async () => {
    // Requests come through a proxy on loopback, which says who the client is.
    ts = await startTestServer({ flags: ['--auth-mode', 'open', '--trust-proxy', 'loopback', '--password-attempt-burst', '5', '--password-attempts-per-minute', '1'] });
    admin = await signUp(ts, 'alice');
    member = await signUp(ts, 'mallory');
  });
  after(async () => {
    await ts?.stop();
  });

  test('password guessing from one address is throttled with 429 and Retry-After, even for the right password', async () => {
    const attacker = new Device(ts, { 'x-forwarded-for': '203.0.113.7' });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await wrongSignIn(attacker, i % 2 ? 'alice' : `nobody${i}`));
    assert.deepEqual(answers.map((a) => a.status), [401, 401, 401, 401, 401]);
    const stopped = await attacker.post('/app/signin', { username: 'alice', password: PASSWORD });
    assert.equal(stopped.status, 429);
    assert.match(stopped.body.error, /Too many attempts from your address; try again in \d+ seconds?/);
    assert.ok(Number(stopped.headers.get('retry-after')) >= 1);
    const signUpToo = await attacker.post('/app/signup', { username: 'probe', password: PASSWORD });
    assert.equal(signUpToo.status, 429, 'sign-up (which says whether a name is taken) shares the budget');
    assert.equal((await new Device(ts, { 'x-forwarded-for': '203.0.113.8' }).post('/app/signin', { username: 'alice', password: PASSWORD })).status, 200, 'another address is not affected');
  });

  test('guessing one account\'s password from many addresses is throttled per username, for every spelling of it', async () => {
    const target = await signUp(ts, 'victim');
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await wrongSignIn(new Device(ts, { 'x-forwarded-for': `198.51.100.${i + 1}` }), i % 2 ? 'VICTIM' : 'victim')).status);
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429], '10 at once per username, then refused');
    const fromElsewhere = await new Device(ts, { 'x-forwarded-for': '198.51.100.99' }).post('/app/signin', { username: 'vict1m', password: PASSWORD });
    assert.equal(fromElsewhere.status, 429, 'a look-alike spelling shares the budget');
    assert.match(fromElsewhere.body.error, /Too many attempts for this username/);
    assert.equal((await new Device(ts, { 'x-forwarded-for': '198.51.100.100' }).post('/app/signin', { username: 'mallory', password: PASSWORD })).status, 200, 'other accounts are not affected');
    assert.equal((await target.device.post('/app/token')).status, 200, 'the victim stays signed in on their devices');
  });

  test('usernames that differ only by case or look-alike characters cannot be registered twice', async () => {
    await signUp(ts, 'oscar', { displayName: 'Oscar' });
    for (const [i, twin] of ['Oscar', 'OSCAR', 'оscar', 'osсar', '0scar', 'óscar', 'oscar\u0301', 'ｏｓｃａｒ'].entries()) {
      const answer = await new Device(ts, { 'x-forwarded-for': `192.0.2.${i + 10}` }).post('/app/signup', { username: twin, password: PASSWORD });
      assert.ok(answer.status === 409 || answer.status === 400, `${twin}: ${answer.status}`);
      if (answer.status === 409) assert.equal(answer.body.error, 'That username is taken');
    }
    const zeroWidth = await new Device(ts, { 'x-forwarded-for': '192.0.2.51' }).post('/app/signup', { username: 'os\u200bcar', password: PASSWORD });
    assert.equal(zeroWidth.status, 400, 'invisible characters are refused outright');
  });

  test('an unknown username and a wrong password get byte-identical answers', async () => {
    const raw = async (username: string) => {
      const response = await fetch(`${httpBase(ts)}/app/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${username.length + 100}` },
        body: JSON.stringify({ username, password: 'not the password' }),
      });
      const headers = [...response.headers].filter(([name]) => name !== 'date');
      return { status: response.status, body: await response.text(), headers };
    };
    const unknown = await raw('nobody-here');
    const wrong = await raw('mallory');
    assert.deepEqual(unknown, wrong);
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body, '{"error":"Wrong username or password"}');
  });

  test('the session cookie is HttpOnly, SameSite=Strict, for /app only, and Secure only when the request came over HTTPS', async () => {
    const plain = await new Device(ts, { 'x-forwarded-for': '192.0.2.60' }).post('/app/signin', { username: 'mallory', password: PASSWORD });
    const cookie = plain.headers.get('set-cookie')!;
    assert.match(cookie, /^parley_session=[A-Za-z0-9_-]{43}; Path=\/app; Max-Age=2592000; HttpOnly; SameSite=Strict$/);
    const https = await new Device(ts, { 'x-forwarded-for': '192.0.2.61', 'x-forwarded-proto': 'https' }).post('/app/signin', { username: 'mallory', password: PASSWORD });
    assert.match(https.headers.get('set-cookie')!, /; HttpOnly; SameSite=Strict; Secure$/, 'behind a trusted HTTPS proxy');
    assert.ok(!JSON.stringify(plain.body).includes(cookie.split(';')[0]!.split('=')[1]!), 'the token is not in the body');
    const signedOut = await new Device(ts).post('/app/signout');
    assert.match(signedOut.headers.get('set-cookie')!, /^parley_session=; Path=\/app; Max-Age=0; HttpOnly; SameSite=Strict$/);
    assert.ok(!ts.logs.join('\n').includes(cookie.split(';')[0]!.split('=')[1]!), 'never logged');
  });

  test('other sites cannot use the routes: a foreign Origin gets 403 and a body that is not JSON 415, before any work', async () => {
    const evil = { origin: 'https://evil.example' };
    for (const [method, path] of [['POST', '/app/signin'], ['POST', '/app/signup'], ['POST', '/app/signout-everywhere'], ['POST', '/app/account/password'], ['DELETE', '/app/account/sessions/x'], ['POST', `/app/admin/accounts/${member.result.account.id}/deactivate`]] as const) {
      const answer = await admin.device.request(method, path, method === 'POST' ? {} : undefined, evil);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body.error, 'Requests from other sites are refused');
    }
    assert.equal((await admin.device.get('/app/account')).status, 200, 'still signed in: nothing was done');
    const form = await admin.device.request('POST', '/app/signout-everywhere', 'x=1', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    const sameSite = await admin.device.request('POST', '/app/token', {}, { origin: httpBase(ts) });
    assert.equal(sameSite.status, 200, 'the page served by this server may');
  });

  test('members get 403 and strangers 401 on every admin route', async () => {
    const id = admin.result.account.id;
    const routes: [string, string, unknown?][] = [
      ['GET', '/app/admin/accounts'],
      ['POST', `/app/admin/accounts/${id}/role`, { role: 'member' }],
      ['POST', `/app/admin/accounts/${id}/deactivate`, {}],
      ['POST', `/app/admin/accounts/${id}/reactivate`, {}],
      ['GET', '/app/admin/invites'],
      ['POST', '/app/admin/invites', {}],
      ['DELETE', '/app/admin/invites/some-id'],
    ];
    for (const [method, path, body] of routes) {
      assert.equal((await member.device.request(method, path, body)).status, 403, `member: ${method} ${path}`);
      assert.equal((await new Device(ts).request(method, path, body)).status, 401, `stranger: ${method} ${path}`);
    }
    assert.equal((await admin.device.get('/app/account')).body.role, 'admin', 'nothing changed');
  });

  test('tokens do not outlive their session or account: a refresh with an ended session and an integrator token of a deactivated account are refused', async () => {
    const phone = await signIn(ts, 'mallory', PASSWORD, { 'x-forwarded-for': '192.0.2.70' });
    const laptop = await signIn(ts, 'mallory', PASSWORD, { 'x-forwarded-for': '192.0.2.71' });
    const client = await connectRaw(ts.wsUrl, laptop.result.token);
    const sessions = (await phone.device.get('/app/account/sessions')).body.sessions;
    const phoneSession = sessions.find((s: { current: boolean }) => s.current).id;
    assert.equal((await laptop.device.delete(`/app/account/sessions/${phoneSession}`)).status, 204);
    client.command(2, 'refresh', { token: phone.result.token });
    assert.deepEqual(await client.waitClose(), { code: Disconnects.signedOut.code, reason: 'signed out' });

    const forged = await mintToken({ sub: member.result.account.id, sid: 'made-up' }, { expiresIn: '1h' });
    const refused = await openRaw(ts.wsUrl);
    refused.command(1, 'connect', { token: forged });
    assert.equal((await refused.waitClose()).code, Disconnects.signedOut.code, 'a session id nobody issued');

    assert.equal((await admin.device.post(`/app/admin/accounts/${member.result.account.id}/deactivate`)).status, 200);
    const integrator = await openRaw(ts.wsUrl);
    integrator.command(1, 'connect', { token: await mintToken({ sub: member.result.account.id }, { expiresIn: '1h' }) });
    assert.deepEqual(await integrator.waitClose(), { code: Disconnects.accountDeactivated.code, reason: 'account deactivated' });
    const stranger = await connectRaw(ts.wsUrl, await mintToken({ sub: 'not-an-account' }, { expiresIn: '1h' }));
    assert.equal(stranger.closed, undefined, 'users without an account are not affected');
    stranger.close();
  });

  test('malformed requests get clear errors and never crash the server', async () => {
    const device = new Device(ts, { 'x-forwarded-for': '192.0.2.90' });
    const cases: [string, string | unknown, number][] = [
      ['/app/signin', '{"username": "a"', 400],
      ['/app/signin', [1, 2], 400],
      ['/app/signin', { username: 42, password: {} }, 400],
      ['/app/signup', { username: 'x'.repeat(5000), password: PASSWORD }, 413],
      ['/app/claim', { username: 'ghost', password: PASSWORD }, 401],
      ['/app/account/profile', { displayName: 'x' }, 401],
    ];
    for (const [path, body, status] of cases) {
      const answer = await device.post(path, body);
      assert.equal(answer.status, status, `${path} ${JSON.stringify(body)}`);
      assert.equal(typeof answer.body.error, 'string');
    }
    assert.equal((await fetch(`${httpBase(ts)}/health`)).status, 200);
  });
});
