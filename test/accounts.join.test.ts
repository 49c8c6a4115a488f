/**
 * Who may join: invitations (invite mode), a guest claiming their identity
 * (guest mode), and which routes each mode turns off.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { verifyToken } from '../src/auth/jwt.js';
import { auditEntries, connectDevice, Device, PASSWORD, signIn, signUp } from './helpers/accounts.js';
import { connectChat, postJson } from './helpers/chat.js';
import { disconnectAll } from './helpers/sdk.js';
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/server.js';

describe('invite mode', () => {
  let ts: TestServer;
  let admin: Device;
  before(async () => {
    ts = await startTestServer({ flags: ['--auth-mode', 'invite'] });
  });
  after(async () => {
    await ts?.stop();
  });

  test('no sign-up without an invitation; the first admin comes from the command line (here: the store)', async () => {
    const config = (await new Device(ts).get('/app/config')).body;
    assert.deepEqual([config.authMode, config.firstAccount], ['invite', true]);
    const refused = await new Device(ts).post('/app/signup', { username: 'eager', password: PASSWORD });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /needs an invitation/);
    assert.equal((await postJson(ts, '/app/guest', {})).status, 403);
    const claim = await new Device(ts).post('/app/claim', { username: 'leftover', password: PASSWORD });
    assert.equal(claim.status, 403, 'a guest left from before cannot make an account without an invitation');
    assert.match(claim.body.error, /invite-only/);
  });

  test('an admin makes an invitation link with expiry and use count; it signs up that many people, and is listed and revoked', async () => {
    // The first admin, as `parley admin create` makes it, straight in the account store.
    const { hashPassword } = await import('../src/accounts/password.js');
    const { SqliteAccountStore } = await import('../src/accounts/sqlite-account-store.js');
    const store = new SqliteAccountStore({ path: `${ts.dataDir}/accounts.db` });
    await store.open();
    await store.createAccount({ id: 'u_root', username: 'root', displayName: 'Root', passwordHash: await hashPassword(PASSWORD), now: Date.now() });
    await store.close();
    admin = (await signIn(ts, 'root')).device;

    const made = await admin.post('/app/admin/invites', { expiresInHours: 2, maxUses: 2 });
    assert.equal(made.status, 201);
    const { invite, code, url } = made.body;
    assert.equal(url, `http://127.0.0.1:${ts.server.port}/?invite=${code}`);
    assert.deepEqual([invite.maxUses, invite.uses], [2, 0]);
    assert.ok(Math.abs(invite.expiresAt - (Date.now() + 2 * 3_600_000)) < 60_000);
    const listed = await admin.get('/app/admin/invites');
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(code), 'the code is shown once, never listed');

    // The invitation is checked before the username: without a valid one, nobody learns which names exist.
    const wrong = await new Device(ts).post('/app/signup', { username: 'root', password: PASSWORD, invite: 'not-a-real-code' });
    assert.deepEqual([wrong.status, wrong.body.error], [403, 'That invitation link is not valid; ask an admin for a new one']);
    const taken = await new Device(ts).post('/app/signup', { username: 'ROOT', password: PASSWORD, invite: code });
    assert.deepEqual([taken.status, taken.body.error], [409, 'That username is taken']);
    await signUp(ts, 'first', { invite: code });
    const second = await signUp(ts, 'second', { invite: code });
    assert.equal(second.result.account.role, 'member');
    const third = await new Device(ts).post('/app/signup', { username: 'third', password: PASSWORD, invite: code });
    assert.deepEqual([third.status, third.body.error], [403, 'That invitation link has been used as often as it allows; ask an admin for a new one']);
    assert.equal((await admin.get('/app/admin/invites')).body.invites[0].uses, 2);

    const spare = (await admin.post('/app/admin/invites', {})).body;
    assert.equal(spare.invite.maxUses, 1);
    assert.equal((await admin.delete(`/app/admin/invites/${spare.invite.id}`)).status, 204);
    assert.equal((await admin.delete(`/app/admin/invites/${spare.invite.id}`)).status, 404);
    const revoked = await new Device(ts).post('/app/signup', { username: 'late', password: PASSWORD, invite: spare.code });
    assert.equal(revoked.status, 403);
    const audit = await auditEntries(ts);
    assert.deepEqual(audit.slice(0, 3).map((entry) => [entry.actor, entry.action]), [['u_root', 'invite.revoke'], ['u_root', 'invite.create'], ['u_root', 'invite.create']]);
    assert.equal(audit[0]!.detail, `invitation ${spare.invite.id}`);
    assert.doesNotMatch(JSON.stringify(audit), new RegExp(code), 'never the code');
    for (const body of [{ maxUses: 0 }, { maxUses: 1001 }, { expiresInHours: 721 }, { expiresInHours: 1.5 }, { maxUses: '2' }]) {
      assert.equal((await admin.post('/app/admin/invites', body)).status, 400, JSON.stringify(body));
    }

  });
});

describe('password hashes made with older costs', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ flags: ['--auth-mode', 'open'] });
  });
  after(async () => {
    await ts?.stop();
  });

  test('are replaced with a current one at the next sign-in', async () => {
    const { scryptSync, randomBytes } = await import('node:crypto');
    const { SqliteAccountStore } = await import('../src/accounts/sqlite-account-store.js');
    const { needsRehash } = await import('../src/accounts/password.js');
    const salt = randomBytes(16);
    const old = ['scrypt', 4096, 8, 1, salt.toString('base64url'), scryptSync(PASSWORD.normalize('NFKC'), salt, 32, { N: 4096, r: 8, p: 1 }).toString('base64url')].join('$');
    assert.ok(needsRehash(old));
    const store = new SqliteAccountStore({ path: `${ts.dataDir}/accounts.db` });
    await store.open();
    try {
      await store.createAccount({ id: 'u_old', username: 'oldtimer', displayName: 'Old', passwordHash: old, now: Date.now() });
      await signIn(ts, 'oldtimer');
      const account = await store.getAccount('u_old');
      assert.notEqual(account!.passwordHash, old);
      assert.equal(needsRehash(account!.passwordHash), false, 'rehashed with the current parameters');
      await signIn(ts, 'oldtimer');
    } finally {
      await store.close();
    }
  });
});

describe('guest mode: a guest claims their identity', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ flags: ['--auth-mode', 'guest'] });
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('the guest keeps their user id and messages, can edit an old message, and signs in elsewhere with the new username', async () => {
    const device = new Device(ts);
    const guest = await device.post('/app/guest', { name: 'Wanderer' });
    assert.equal(guest.status, 200);
    assert.equal(guest.body.account.role, 'guest');
    assert.ok(device.refreshToken, 'guests use the same session cookie');
    const asGuest = await connectDevice(device, guest.body.token);
    await asGuest.rpc('chat.bootstrap', {});
    const { message } = await asGuest.rpc('chat.send', { channel: 'room:general', text: 'before the upgrade' });
    assert.equal((await device.get('/app/account')).body.role, 'guest');

    const weak = await device.post('/app/claim', { username: 'wanderer', password: 'short' });
    assert.equal(weak.status, 400);
    const claimed = await device.post('/app/claim', { username: 'Wanderer', password: PASSWORD });
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
    assert.equal(claimed.body.user.id, guest.body.user.id, 'the same user id');
    assert.deepEqual(claimed.body.account, {
      id: guest.body.user.id, username: 'Wanderer', displayName: 'Wanderer', color: guest.body.user.color, role: 'member', createdAt: claimed.body.account.createdAt,
    }, 'a claim never makes the server admin, even as its first account');
    assert.equal(typeof verifyToken(claimed.body.token, TEST_SECRET).sid, 'string');
    assert.equal((await device.post('/app/claim', { username: 'again', password: PASSWORD })).status, 409);

    const asAccount = await connectChat(ts.wsUrl, claimed.body.token);
    await asAccount.rpc('chat.edit', { channel: 'room:general', id: message.id, text: 'edited after claiming' });
    const history = await asAccount.rpc('chat.history', { channel: 'room:general' });
    const old = history.messages.find((m) => m.id === message.id)!;
    assert.equal(old.text, 'edited after claiming');
    const fresh = await asAccount.rpc('chat.send', { channel: 'room:general', text: 'with my username' });
    assert.equal(fresh.message.author.username, 'Wanderer', 'new messages carry the username');

    const elsewhere = await signIn(ts, 'wanderer');
    assert.equal(elsewhere.result.user.id, guest.body.user.id);
    const taken = new Device(ts);
    await taken.post('/app/guest', {});
    assert.deepEqual((await taken.post('/app/claim', { username: 'WANDERER', password: PASSWORD })).body, { error: 'That username is taken' });
  });

  test('sign-up is off in guest mode, and profile edits work for guests', async () => {
    assert.equal((await new Device(ts).post('/app/signup', { username: 'newbie', password: PASSWORD })).status, 403);
    const device = new Device(ts);
    await device.post('/app/guest', { name: 'Kiosk' });
    const edited = await device.post('/app/account/profile', { displayName: 'Kiosk 2', color: '#00aa00' });
    assert.equal(edited.status, 200);
    assert.deepEqual([edited.body.user.name, edited.body.user.color], ['Kiosk 2', '#00aa00']);
    const renewed = await device.post('/app/token');
    assert.equal(renewed.body.user.name, 'Kiosk 2', 'the guest session renews with the edited profile');
    assert.equal((await device.get('/app/account/sessions')).status, 403, 'guests have no device list');
  });
});
