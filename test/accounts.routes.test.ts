/**
 * The account routes end to end, on SQLite and on PostgreSQL: real HTTP
 * (each `Device` keeps its own cookie) and real SDK connections.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { verifyToken } from '../src/auth/jwt.js';
import { Disconnects } from '../src/protocol/errors.js';
import { auditEntries, connectDevice, Device, PASSWORD, signIn, signUp } from './helpers/accounts.js';
import { connectChat, signInGuest } from './helpers/chat.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { disconnectAll } from './helpers/sdk.js';
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** Waits until the client is disconnected for good, and returns the code. */
async function disconnectedCode(client: { of(event: string): any[] }): Promise<number> {
  const [ctx] = await waitFor(() => client.of('disconnected').length > 0 && client.of('disconnected'), { message: 'a terminal disconnect' });
  return ctx.code;
}

function accountRoutes(store: string, flags: () => string[]): void {
  describe(`account routes (${store})`, () => {
    let ts: TestServer;
    let admin: Awaited<ReturnType<typeof signUp>>;
    before(async () => {
      ts = await startTestServer({ flags: ['--auth-mode', 'open', ...flags()] });
    });
    afterEach(() => disconnectAll());
    after(async () => {
      disconnectAll();
      await ts?.stop();
    });

    test('the first account signs up as admin, with the username beside its name, and the cookie carries the session', async () => {
      const config = await new Device(ts).get('/app/config');
      assert.equal(config.body.authMode, 'open');
      assert.equal(config.body.firstAccount, true);
      admin = await signUp(ts, 'Ada', { displayName: 'Ada Lovelace' });
      const { result, device } = admin;
      assert.equal(result.account.role, 'admin');
      assert.equal(result.account.username, 'Ada');
      assert.equal(result.account.displayName, 'Ada Lovelace');
      assert.deepEqual(result.user, { id: result.account.id, name: 'Ada Lovelace', color: result.user.color, username: 'Ada' });
      assert.equal('refreshToken' in result, false, 'the refresh token is only in the cookie');
      assert.ok(device.refreshToken);
      const claims = verifyToken(result.token, TEST_SECRET);
      assert.equal(claims.sub, result.account.id);
      assert.deepEqual(claims.info, { name: 'Ada Lovelace', color: result.user.color, username: 'Ada' });
      assert.equal(typeof claims.sid, 'string');
      const ttl = (claims.exp as number) - Date.now() / 1000;
      assert.ok(ttl > 590 && ttl <= 600, `ten minutes (${ttl})`);
      assert.equal((await new Device(ts).get('/app/config')).body.firstAccount, false);
      const bob = await signUp(ts, 'bob');
      assert.equal(bob.result.account.role, 'member');
      assert.equal(bob.result.user.name, 'bob', 'the display name defaults to the username');
    });

    test('bad sign-ups are refused with a message naming the problem; a taken name says so', async () => {
      const cases: [unknown, number, RegExp][] = [
        [{ username: 'a', password: PASSWORD }, 400, /Username must be at least 2 characters/],
        [{ username: 'has space', password: PASSWORD }, 400, /Username must not contain spaces/],
        [{ username: 'carol', password: 'short' }, 400, /Password must be at least 8 characters/],
        [{ username: 'carol' }, 400, /password is required/],
        [{ username: 'carol', password: PASSWORD, displayName: 'x'.repeat(41) }, 400, /longer than 40/],
        [{ username: 'ADA', password: PASSWORD }, 409, /^That username is taken$/],
      ];
      for (const [body, status, message] of cases) {
        const answer = await new Device(ts).post('/app/signup', body);
        assert.equal(answer.status, status, JSON.stringify(body));
        assert.match(answer.body.error, message);
      }
    });

    test('a second device signs in; /app/token renews from the cookie; sign-out ends only that device and closes its connection', async () => {
      const laptop = await signIn(ts, 'ada');
      assert.equal(laptop.result.account.id, admin.result.account.id, 'any spelling of the username');
      const phone = await signIn(ts, 'ADA');
      const phoneClient = await connectDevice(phone.device, phone.result.token);
      const laptopClient = await connectDevice(laptop.device, laptop.result.token);

      const renewed = await phone.device.post('/app/token');
      assert.equal(renewed.status, 200);
      assert.equal(renewed.body.account.username, 'Ada');
      assert.equal(verifyToken(renewed.body.token, TEST_SECRET).sid, verifyToken(phone.result.token, TEST_SECRET).sid, 'the same session');

      const sessions = await laptop.device.get('/app/account/sessions');
      assert.equal(sessions.status, 200);
      const current = sessions.body.sessions.filter((s: { current: boolean }) => s.current);
      assert.equal(current.length, 1);
      assert.ok(sessions.body.sessions.length >= 3);
      assert.equal(current[0].device, 'Node.js', 'named from the User-Agent');
      assert.doesNotMatch(JSON.stringify(sessions.body), new RegExp(laptop.device.refreshToken!), 'no token in the list');

      assert.equal((await phone.device.post('/app/signout')).status, 204);
      assert.equal(phone.device.refreshToken, undefined, 'the cookie is cleared');
      assert.equal(await disconnectedCode(phoneClient), Disconnects.signedOut.code);
      const stale = new Device(ts);
      stale.refreshToken = renewed.headers.get('set-cookie')!.match(/parley_session=([^;]+)/)![1];
      assert.equal((await stale.post('/app/token')).status, 401, 'that session is gone');
      assert.equal((await laptop.device.post('/app/token')).status, 200, 'the laptop stays signed in');
      assert.equal(laptopClient.of('disconnected').length, 0);
      // A token minted for the ended session is refused on reconnect, for good.
      const reconnect = await connectChat(ts.wsUrl, renewed.body.token).catch(() => undefined);
      assert.equal(reconnect, undefined);
    });

    test('a device is signed out from another one, and sign-out everywhere closes every connection', async () => {
      const one = await signUp(ts, 'dora');
      const two = await signIn(ts, 'dora');
      const twoClient = await connectDevice(two.device, two.result.token);
      const listed = (await one.device.get('/app/account/sessions')).body.sessions;
      const other = listed.find((s: { current: boolean }) => !s.current);
      assert.equal((await one.device.delete(`/app/account/sessions/${other.id}`)).status, 204);
      assert.equal(await disconnectedCode(twoClient), Disconnects.signedOut.code);
      assert.equal((await one.device.delete(`/app/account/sessions/${other.id}`)).status, 404);

      const three = await signIn(ts, 'dora');
      const threeClient = await connectDevice(three.device, three.result.token);
      const oneClient = await connectDevice(one.device, one.result.token);
      assert.equal((await one.device.post('/app/signout-everywhere')).status, 204);
      assert.equal(await disconnectedCode(threeClient), Disconnects.signedOut.code);
      assert.equal(await disconnectedCode(oneClient), Disconnects.signedOut.code);
      assert.equal((await three.device.post('/app/token')).status, 401);
      assert.equal((await three.device.get('/app/account')).status, 401);
    });

    test('a password change needs the current password and signs out the other devices', async () => {
      const here = await signUp(ts, 'erin');
      const there = await signIn(ts, 'erin');
      const thereClient = await connectDevice(there.device, there.result.token);
      const wrong = await here.device.post('/app/account/password', { currentPassword: 'not the password', newPassword: 'a brand new secret' });
      assert.equal(wrong.status, 403);
      assert.match(wrong.body.error, /current password is wrong/);
      const weak = await here.device.post('/app/account/password', { currentPassword: PASSWORD, newPassword: 'short' });
      assert.equal(weak.status, 400);
      assert.equal((await here.device.post('/app/account/password', { currentPassword: PASSWORD, newPassword: 'a brand new secret' })).status, 204);
      assert.equal(await disconnectedCode(thereClient), Disconnects.signedOut.code);
      assert.equal((await there.device.post('/app/token')).status, 401);
      assert.equal((await here.device.post('/app/token')).status, 200, 'this device stays signed in');
      assert.equal((await new Device(ts).post('/app/signin', { username: 'erin', password: PASSWORD })).status, 401);
      await signIn(ts, 'erin', 'a brand new secret');
    });

    test('the profile: display name, color and Gravatar, in a fresh token and in the chat', async () => {
      const { device, result } = await signUp(ts, 'fay');
      const changed = await device.post('/app/account/profile', { displayName: 'Fay Wray', color: '#123ABC', email: 'Fay@Example.com' });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.user.name, 'Fay Wray');
      assert.equal(changed.body.user.color, '#123abc');
      assert.match(changed.body.user.avatar, /^[0-9a-f]{32}$/);
      assert.deepEqual(verifyToken(changed.body.token, TEST_SECRET).info, { name: 'Fay Wray', color: '#123abc', avatar: changed.body.user.avatar, username: 'fay' });
      assert.doesNotMatch(JSON.stringify(changed.body), /example/i);
      const client = await connectDevice(device, changed.body.token);
      assert.deepEqual((await client.rpc('chat.bootstrap', {})).user, changed.body.user);
      const cleared = await device.post('/app/account/profile', { email: '' });
      assert.equal(cleared.body.user.avatar, undefined);
      assert.equal(cleared.body.user.name, 'Fay Wray', 'what is not given stays');
      const account = await device.get('/app/account');
      assert.deepEqual(account.body, { id: result.account.id, username: 'fay', displayName: 'Fay Wray', color: '#123abc', role: 'member', createdAt: result.account.createdAt });
      assert.equal((await device.post('/app/account/profile', { color: 'red' })).status, 400);
    });

    test('an admin deactivates an account mid-session: its connection closes, a still-valid token is refused, it cannot sign in; reactivation lets it back', async () => {
      const gus = await signUp(ts, 'gus');
      const client = await connectDevice(gus.device, gus.result.token);
      const id = gus.result.account.id;
      const answer = await admin.device.post(`/app/admin/accounts/${id}/deactivate`);
      assert.equal(answer.status, 200);
      assert.equal(typeof answer.body.account.deactivatedAt, 'number');
      assert.equal(await disconnectedCode(client), Disconnects.accountDeactivated.code);
      const again = await connectChat(ts.wsUrl, gus.result.token).catch((error: unknown) => error);
      assert.ok(again instanceof Error, 'the token has not expired, but the account is deactivated');
      assert.equal((await gus.device.post('/app/token')).status, 401);
      const signin = await new Device(ts).post('/app/signin', { username: 'gus', password: PASSWORD });
      assert.deepEqual([signin.status, signin.body], [403, { error: 'This account has been deactivated' }]);
      const wrong = await new Device(ts).post('/app/signin', { username: 'gus', password: 'wrong password' });
      assert.deepEqual([wrong.status, wrong.body], [401, { error: 'Wrong username or password' }], 'only the password tells');

      assert.equal((await admin.device.post(`/app/admin/accounts/${id}/reactivate`)).status, 200);
      const back = await signIn(ts, 'gus');
      await connectDevice(back.device, back.result.token);
    });

    test('admins list and search accounts a page at a time and change roles, never leaving no admin', async () => {
      const page = await admin.device.get('/app/admin/accounts?limit=2');
      assert.equal(page.status, 200);
      assert.equal(page.body.accounts.length, 2);
      const next = await admin.device.get(`/app/admin/accounts?limit=2&cursor=${page.body.next}`);
      assert.notDeepEqual(next.body.accounts[0], page.body.accounts[0]);
      const found = await admin.device.get('/app/admin/accounts?query=DORA');
      assert.deepEqual(found.body.accounts.map((a: { username: string }) => a.username), ['dora']);
      assert.equal((await admin.device.get('/app/admin/accounts?limit=0')).status, 400);
      const adaId = admin.result.account.id;
      const last = await admin.device.post(`/app/admin/accounts/${adaId}/role`, { role: 'member' });
      assert.equal(last.status, 409);
      assert.match(last.body.error, /last active admin/);
      assert.equal((await admin.device.post(`/app/admin/accounts/${adaId}/deactivate`)).status, 409);
      const dora = found.body.accounts[0];
      const promoted = await admin.device.post(`/app/admin/accounts/${dora.id}/role`, { role: 'admin' });
      assert.equal(promoted.body.account.role, 'admin');
      assert.equal((await admin.device.post(`/app/admin/accounts/${dora.id}/role`, { role: 'owner' })).status, 400);
      assert.equal((await admin.device.post('/app/admin/accounts/u_nobody/role', { role: 'member' })).status, 404);
      assert.equal((await admin.device.post(`/app/admin/accounts/${dora.id}/role`, { role: 'member' })).status, 200);
      const recorded = (await auditEntries(ts)).filter((entry) => entry.target === dora.id);
      assert.deepEqual(
        recorded.map(({ actor, action, detail }) => [actor, action, detail]),
        [[adaId, 'account.role', 'member'], [adaId, 'account.role', 'admin']],
        'every admin action is in the audit log, newest first',
      );
    });

    test('a guest claims their identity: same user id, and they can still edit their old message', async () => {
      const guest = await signInGuest(ts, { name: 'Wanderer' }).catch(() => undefined);
      assert.equal(guest, undefined, 'no guest sign-in in open mode');
    });
  });
}

accountRoutes('SQLite', () => []);

let database: TestDatabase | undefined;
describe('on PostgreSQL', () => {
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });
  accountRoutes('PostgreSQL', () => ['--postgres-url', database!.url]);
});
