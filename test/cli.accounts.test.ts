/**
 * `parley admin create` and `parley admin reset-password` from the command
 * line, on a data dir's SQLite accounts and on PostgreSQL; `parley import`
 * carries accounts and their sessions into PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditEntries, Device, PASSWORD, signIn } from './helpers/accounts.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { startTestServer } from './helpers/server.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-accounts-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('parley admin', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  for (const store of ['SQLite', 'PostgreSQL'] as const) {
    test(`create and reset-password work on ${store}, reading the password from standard input`, async () => {
      const dataDir = tempDir();
      const where = store === 'SQLite' ? ['--data-dir', dataDir] : ['--data-dir', dataDir, '--postgres-url', database.url];
      const created = await runCli(['admin', 'create', 'Root', '--password-stdin', ...where], { input: `${PASSWORD}\n` });
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout, 'parley: created the account Root (admin)\n', 'the first account is the admin');
      assert.ok(!created.stdout.includes(PASSWORD) && !created.stderr.includes(PASSWORD));
      const member = await runCli(['admin', 'create', 'helper', ...where], { input: 'another password\n' });
      assert.equal(member.stdout, 'parley: created the account helper (member)\n', 'not a terminal: one line from stdin');
      const promoted = await runCli(['admin', 'create', 'second', '--admin', ...where], { input: 'third password!\n' });
      assert.equal(promoted.stdout, 'parley: created the account second (admin)\n');
      const twin = await runCli(['admin', 'create', 'ROOT', ...where], { input: `${PASSWORD}\n` });
      assert.equal(twin.code, 1);
      assert.match(twin.stderr, /the username ROOT \(or one that looks like it\) is taken/);
      const weak = await runCli(['admin', 'create', 'weak', ...where], { input: 'short\n' });
      assert.equal(weak.code, 2);
      assert.match(weak.stderr, /password must be at least 8 characters/);

      const ts = await startTestServer({ dataDir, flags: ['--auth-mode', 'invite', ...where.slice(2)] });
      try {
        const root = await signIn(ts, 'root');
        assert.equal(root.result.account.role, 'admin');
        const reset = await runCli(['admin', 'reset-password', 'root', ...where], { input: 'a fresh password\n' });
        assert.equal(reset.code, 0, reset.stderr);
        assert.equal(reset.stdout, 'parley: set a new password for Root; signed out of 1 device\n');
        assert.equal((await root.device.post('/app/token')).status, 401, 'signed out everywhere');
        assert.equal((await new Device(ts).post('/app/signin', { username: 'root', password: PASSWORD })).status, 401);
        await signIn(ts, 'root', 'a fresh password');
        const [entry] = await auditEntries(ts);
        assert.deepEqual([entry!.actor, entry!.action, entry!.target], ['', 'account.password-reset', root.result.account.id]);
      } finally {
        await ts.stop();
      }
      const nobody = await runCli(['admin', 'reset-password', 'nobody', ...where], { input: 'whatever password\n' });
      assert.equal(nobody.code, 1);
      assert.match(nobody.stderr, /there is no account named nobody/);
      const usage = await runCli(['admin', 'create', ...where]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /a username is required/);
      if (store === 'PostgreSQL') {
        // The next test imports into this database.
        const sql = database.client();
        await sql`TRUNCATE account_sessions, account_users, account_invites`;
        await database.end(sql);
      }
    });
  }

  test('parley import carries accounts, their sessions and invitations into PostgreSQL: nobody is signed out', async () => {
    const dataDir = tempDir();
    const single = await startTestServer({ dataDir, flags: ['--auth-mode', 'invite'] });
    let device: Device;
    try {
      const created = await runCli(['admin', 'create', 'keeper', '--data-dir', dataDir], { input: `${PASSWORD}\n` });
      assert.equal(created.code, 0, created.stderr);
      ({ device } = await signIn(single, 'keeper'));
      assert.equal((await device.post('/app/admin/invites', { maxUses: 3 })).status, 201);
    } finally {
      await single.server.close();
    }
    const imported = await runCli(['import', '--from', dataDir, '--force', '--postgres-url', database.url]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /accounts\s+1\n/);
    assert.match(imported.stdout, /account sessions\s+1\n/);
    assert.match(imported.stdout, /invitations\s+1\n/);
    assert.match(imported.stdout, /audit log entries\s+1\n/, 'the invitation made');
    const cluster = await startTestServer({ dataDir: tempDir(), flags: ['--auth-mode', 'invite', '--postgres-url', database.url] });
    try {
      const moved = new Device(cluster);
      moved.refreshToken = device.refreshToken;
      const renewed = await moved.post('/app/token');
      assert.equal(renewed.status, 200, 'the same cookie works on the PostgreSQL server');
      assert.equal(renewed.body.account.username, 'keeper');
      assert.equal((await moved.get('/app/admin/invites')).body.invites[0].maxUses, 3);
      await signIn(cluster, 'keeper');
      assert.equal((await moved.post('/app/admin/invites', {})).status, 201);
      const audit = await auditEntries(cluster);
      assert.deepEqual(audit.map((entry) => entry.action), ['invite.create', 'invite.create'], 'the copied entry, then a new one after it');
      assert.ok(audit[0]!.id > audit[1]!.id);
    } finally {
      await cluster.stop();
    }
  });
});
