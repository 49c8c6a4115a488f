/**
 * The `parley` command as an operator uses it: tokens, configuration errors,
 * and a server process that shuts down gracefully on SIGTERM.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { jwtVerify } from 'jose';
import { runCli, startCli, startServeCli } from './helpers/cli.js';
import { connectRaw } from './helpers/raw-client.js';
import { mintToken } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function verifyWith(dataDir: string, token: string) {
  const secret = readFileSync(join(dataDir, 'token-secret'), 'utf8').trim();
  return (await jwtVerify(token, new TextEncoder().encode(secret))).payload;
}

describe('parley token', () => {
  test('prints a connection token signed with the generated secret', async () => {
    const dir = tempDir();
    const run = await runCli(['token', '--user', 'alice', '--name', 'Alice', '--ttl', '2h', '--data-dir', dir]);
    assert.equal(run.code, 0, run.stderr);
    const claims = await verifyWith(dir, run.stdout.trim());
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.info, { name: 'Alice' });
    const ttl = (claims.exp as number) - Date.now() / 1000;
    assert.ok(ttl > 7000 && ttl <= 7200, `ttl ${ttl}`);
    assert.ok(!run.stderr.includes(readFileSync(join(dir, 'token-secret'), 'utf8').trim()), 'secret not printed');
  });

  test('prints a subscription token with --channel and permission claims with --permissions', async () => {
    const dir = tempDir();
    const sub = await runCli(['token', '--user', 'bob', '--channel', 'room:secret', '--data-dir', dir]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal((await verifyWith(dir, sub.stdout.trim())).channel, 'room:secret');
    const permissions = { '^observable-room$': { publish: true, subscribe: true } };
    const conn = await runCli(['token', '--user', 'bob', '--permissions', JSON.stringify(permissions), '--data-dir', dir]);
    assert.equal(conn.code, 0, conn.stderr);
    assert.deepEqual((await verifyWith(dir, conn.stdout.trim())).permissions, permissions);
  });

  test('carries the issuer and audience the server requires', async () => {
    const dir = tempDir();
    const run = await runCli(['token', '--user', 'carol', '--token-issuer', 'https://chat.example.com', '--token-audience', 'parley', '--data-dir', dir]);
    assert.equal(run.code, 0, run.stderr);
    const claims = await verifyWith(dir, run.stdout.trim());
    assert.equal(claims.iss, 'https://chat.example.com');
    assert.equal(claims.aud, 'parley');
  });

  test('refuses missing --user, bad --ttl and bad --permissions with a message', async () => {
    const dir = tempDir();
    const noUser = await runCli(['token', '--data-dir', dir]);
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /--user is required/);
    const badTtl = await runCli(['token', '--user', 'a', '--ttl', 'soon', '--data-dir', dir]);
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.stderr, /--ttl/);
    const badPermissions = await runCli(['token', '--user', 'a', '--permissions', '{"(": {"subscribe": true}}', '--data-dir', dir]);
    assert.equal(badPermissions.code, 1);
    assert.match(badPermissions.stderr, /permission/i);
    assert.equal(badPermissions.stdout, '');
  });
});

describe('parley serve', () => {
  test('a bad value exits non-zero with one line naming the key', async () => {
    const dir = tempDir();
    const flag = await runCli(['serve', '--port', 'abc', '--data-dir', dir]);
    assert.equal(flag.code, 1);
    assert.equal(flag.stderr.trim().split('\n').length, 1);
    assert.match(flag.stderr, /port/);

    writeFileSync(join(dir, 'parley.config.json'), JSON.stringify({ namespaces: { room: { historySize: -1 } } }));
    const file = await runCli(['serve'], { cwd: dir });
    assert.equal(file.code, 1);
    assert.equal(file.stderr.trim().split('\n').length, 1);
    assert.match(file.stderr, /namespaces\.room\.historySize/);

    const env = await runCli(['serve', '--data-dir', dir], { env: { PORT: '70000' } });
    assert.equal(env.code, 1);
    assert.match(env.stderr, /PORT/);
  });

  test('SIGTERM: acknowledged publishes are durable, clients get the shutdown code, the process exits 0', async () => {
    const dir = tempDir();
    const first = await startServeCli(['--data-dir', dir, '--token-secret', 'cli-test-secret-0123456789abcdef0123']);
    const url = `ws://127.0.0.1:${first.port}/connection/websocket`;
    const token = await mintToken({ sub: 'writer' }, { secret: 'cli-test-secret-0123456789abcdef0123' });
    const client = await connectRaw(url, token);
    for (let i = 0; i < 200; i++) client.command(10 + i, 'publish', { channel: 'room:durable', data: { i } });
    await client.reply(10);
    first.child.kill('SIGTERM');
    const closed = await client.waitClose(10_000);
    assert.equal(closed.code, 3001);
    const run = await first.exited;
    assert.equal(run.code, 0, run.stderr);
    const acked = client.received.filter((line) => line.publish).map((line) => line.id - 10);
    assert.ok(acked.length >= 1);

    const second = await startServeCli(['--data-dir', dir, '--token-secret', 'cli-test-secret-0123456789abcdef0123']);
    try {
      const reader = await connectRaw(`ws://127.0.0.1:${second.port}/connection/websocket`, token);
      reader.command(2, 'history', { channel: 'room:durable', limit: -1 });
      const history = (await reader.reply(2)).history;
      const stored = new Set(history.publications.map((p: { data: { i: number } }) => p.data.i));
      for (const i of acked) assert.ok(stored.has(i), `acknowledged publish ${i} is in history`);
      // Offsets stay dense and ordered as the publishes were sent.
      assert.deepEqual(history.publications.map((p: { data: { i: number } }) => p.data.i), [...stored].sort((a, b) => (a as number) - (b as number)));
      reader.close();
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  test('a SIGTERM while the server is still starting shuts it down gracefully once started', async () => {
    const dir = tempDir();
    const cli = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir]);
    // The first line comes before the server listens (the secrets are generated first).
    await waitFor(() => cli.stdout().includes('generated token secret'), { timeoutMs: 20_000, message: 'the first log line' });
    cli.child.kill('SIGTERM');
    const run = await cli.exited;
    assert.deepEqual({ code: run.code, signal: run.signal }, { code: 0, signal: null }, `exit after SIGTERM; stderr: ${run.stderr.slice(-2000)}`);
    assert.match(run.stdout, /shutting down/);
    assert.match(run.stdout, /parley stopped/);
  });

  test('logs go to the log file too, and never contain the token secret', async () => {
    const dir = tempDir();
    const logFile = join(dir, 'logs', 'parley.log');
    const cli = await startServeCli(['--data-dir', dir], { env: { PARLEY_LOG_FILE: logFile } });
    cli.child.kill('SIGTERM');
    const run = await cli.exited;
    assert.deepEqual({ code: run.code, signal: run.signal }, { code: 0, signal: null }, `exit after SIGTERM; stderr: ${run.stderr.slice(-2000)}`);
    const secret = readFileSync(join(dir, 'token-secret'), 'utf8').trim();
    const apiKey = readFileSync(join(dir, 'api-key'), 'utf8').trim();
    const fileLog = await waitFor(() => {
      const text = readFileSync(logFile, 'utf8');
      return text.includes('parley stopped') && text;
    });
    assert.match(fileLog, /generated token secret/);
    for (const text of [fileLog, run.stdout, run.stderr]) {
      assert.ok(!text.includes(secret), 'secret not logged');
      assert.ok(!text.includes(apiKey), 'api key not logged');
    }
  });
});

/** The lines of `output` that are complete (a line still being written is left out), without blank ones. */
function completeLines(output: string): string[] {
  return output.slice(0, output.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

describe('parley serve: start-up lines and log format', () => {
  /** Waits for the listening line in `output` and returns the port it names. */
  const listeningPort = (output: () => string, host: string): Promise<number> =>
    waitFor(
      () => {
        const match = new RegExp(`parley listening on http://${host.replaceAll('.', '\\.')}:(\\d+)`).exec(output());
        return match ? Number(match[1]) : undefined;
      },
      { timeoutMs: 20_000, message: 'the listening line' },
    );

  test('on every interface, piped: JSON lines; the listening line gives http://localhost:PORT and guest sign-in is a warning', async () => {
    const cli = startCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', tempDir()]);
    try {
      const port = await listeningPort(cli.stdout, 'localhost');
      assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200, 'the server behind the URL answers');
      const lines = await waitFor(() => {
        const parsed = completeLines(cli.stdout()).map((line) => JSON.parse(line) as { level: number; msg: string; url?: string });
        return parsed.some((line) => line.msg.startsWith('sign-up is open')) && parsed;
      });
      const listening = lines.find((line) => line.msg.startsWith('parley listening'))!;
      assert.equal(listening.msg, `parley listening on http://localhost:${port}`);
      assert.equal(listening.url, `http://localhost:${port}`);
      const notice = lines.find((line) => line.msg.startsWith('sign-up is open'))!;
      assert.equal(notice.level, 40, 'a warning');
      assert.equal(
        notice.msg,
        `sign-up is open: anyone who can reach this machine on port ${port} (every network interface) can create an account (the first account becomes the admin); set authMode to invite to require invitations`,
      );
      assert.ok(!cli.stdout().includes('"url":"http://0.0.0.0'), 'no address a browser cannot open');
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    }
  });

  test('on a terminal: readable colored lines, no JSON; on loopback guest sign-in reaches this machine only', async () => {
    const cli = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', tempDir(), '--auth-mode', 'guest'], { terminal: true });
    const notice = 'INFO: guest sign-in is on: anyone on this machine can join the chat without an account; set authMode to open or invite to require accounts';
    let port: number;
    try {
      port = await listeningPort(cli.stdout, '127.0.0.1');
      await waitFor(() => cli.stdout().replace(/\x1b\[\d+m/g, '').includes(`${notice}\r\n`), { message: 'the guest sign-in notice' });
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    const output = cli.stdout();
    assert.match(output, /\x1b\[\d+m/, 'colored');
    const plain = completeLines(output.replace(/\x1b\[\d+m/g, '')).map((line) => line.replace(/\r$/, ''));
    const lines = plain.slice(0, plain.findIndex((line) => line.endsWith(notice)) + 1);
    for (const line of lines) assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): /, 'a readable line, not JSON');
    assert.ok(lines.some((line) => line.includes(`INFO: parley listening on http://127.0.0.1:${port} {"url":"http://127.0.0.1:${port}"`)));
  });

  test('--log-format pretty on a pipe: readable lines without color codes; authMode token: no notice', async () => {
    const cli = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', tempDir(), '--log-format', 'pretty', '--token-url', 'https://example.org/token']);
    try {
      await listeningPort(cli.stdout, '127.0.0.1');
    } finally {
      cli.child.kill('SIGTERM');
    }
    const run = await cli.exited;
    assert.equal(run.code, 0);
    for (const line of completeLines(run.stdout)) assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): [^\x1b]*$/);
    assert.match(run.stdout, /INFO: parley stopped\n$/);
    assert.ok(!run.stdout.includes('guest sign-in is on') && !run.stdout.includes('sign-up'));
  });
});
