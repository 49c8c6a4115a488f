import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/schema.js';
import { ensureSecrets } from '../src/config/secrets.js';
import type { Config } from '../src/config/types.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-secrets-'));
  dirs.push(dir);
  return dir;
}

/** A logger that records what it was given. */
function recorder() {
  const lines: { obj: object; msg: string }[] = [];
  return { lines, info: (obj: object, msg: string) => void lines.push({ obj, msg }) };
}

/** A loaded config whose data dir is a nested, not yet existing directory. */
async function configIn(env: NodeJS.ProcessEnv = {}): Promise<Config> {
  return loadConfig({ env, argv: ['--data-dir', join(tempDir(), 'nested', 'data')], cwd: tempDir() });
}

const isWindows = process.platform === 'win32';

function readdirNames(dir: string): string[] {
  return readdirSync(dir).sort();
}

test('missing secrets are generated into the data dir with mode 0600', async () => {
  const config = await configIn();
  const log = recorder();
  const filled = await ensureSecrets(config, log);

  assert.match(filled.tokenSecret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.match(filled.apiKey, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(filled.tokenSecret, filled.apiKey);
  for (const [name, value] of [['token-secret', filled.tokenSecret], ['api-key', filled.apiKey]] as const) {
    const path = join(config.dataDir, name);
    assert.equal(readFileSync(path, 'utf8').trim(), value);
    if (!isWindows) assert.equal(statSync(path).mode & 0o777, 0o600, `${name} mode`);
  }
  assert.deepEqual(readdirNames(config.dataDir), ['api-key', 'token-secret'], 'no temporary files left behind');

  assert.equal(log.lines.length, 2);
  for (const line of log.lines) {
    const logged = JSON.stringify(line);
    assert.ok(!logged.includes(filled.tokenSecret) && !logged.includes(filled.apiKey), `secret logged: ${logged}`);
    assert.ok(logged.includes(config.dataDir), 'the log names the file');
  }

  assert.ok(Object.isFrozen(filled) && Object.isFrozen(filled.namespaces['room']));
  assert.equal(config.tokenSecret, '', 'the input config is left alone');
});

test('a second call reuses the files', async () => {
  const config = await configIn();
  const first = await ensureSecrets(config, recorder());
  const log = recorder();
  const second = await ensureSecrets(config, log);
  assert.equal(second.tokenSecret, first.tokenSecret);
  assert.equal(second.apiKey, first.apiKey);
  assert.equal(log.lines.length, 0, 'nothing generated, nothing logged');
});

test('concurrent calls on one data dir agree on the secrets', async () => {
  const config = await configIn();
  const log = recorder();
  const results = await Promise.all(Array.from({ length: 8 }, () => ensureSecrets(config, log)));
  assert.equal(log.lines.length, 2, 'each secret generated once');
  for (const result of results) {
    assert.equal(result.tokenSecret, results[0]?.tokenSecret);
    assert.equal(result.apiKey, results[0]?.apiKey);
  }
  assert.deepEqual(readdirNames(config.dataDir), ['api-key', 'token-secret']);
});

test('secrets given by the environment are used as they are, and no file is written', async () => {
  const tokenSecret = 'env-token-secret-0123456789abcdef-xyz';
  const apiKey = 'env-api-key-0123456789';
  const config = await configIn({ PARLEY_TOKEN_SECRET: tokenSecret, PARLEY_API_KEY: apiKey });
  const log = recorder();
  const filled = await ensureSecrets(config, log);
  assert.equal(filled.tokenSecret, tokenSecret);
  assert.equal(filled.apiKey, apiKey);
  assert.equal(existsSync(config.dataDir), false, 'data dir not even created');
  assert.equal(log.lines.length, 0);
});

test('a secret given in config is kept and only the other one is generated', async () => {
  const dataDir = join(tempDir(), 'data');
  const cwd = tempDir();
  const tokenSecret = 'file-token-secret-0123456789abcdef-xyz';
  writeFileSync(join(cwd, 'parley.config.json'), JSON.stringify({ dataDir, tokenSecret }));
  const config = await loadConfig({ env: {}, argv: [], cwd });
  const log = recorder();
  const filled = await ensureSecrets(config, log);
  assert.equal(filled.tokenSecret, tokenSecret);
  assert.equal(existsSync(join(dataDir, 'token-secret')), false);
  assert.equal(readFileSync(join(dataDir, 'api-key'), 'utf8').trim(), filled.apiKey);
  assert.equal(log.lines.length, 1);
  assert.ok(!JSON.stringify(log.lines).includes(tokenSecret));
});

test('a hand-written secret file is trimmed; a short token secret is kept, a short API key or an empty file is an error', async () => {
  const config = await configIn();
  await ensureSecrets(config, recorder());
  writeFileSync(join(config.dataDir, 'token-secret'), `  ${'s'.repeat(40)}\n`);
  assert.equal((await ensureSecrets(config, recorder())).tokenSecret, 's'.repeat(40));

  // Short HMAC secrets (common with Centrifugo) work; the server warns about them when it starts.
  writeFileSync(join(config.dataDir, 'token-secret'), 'tooshort\n');
  assert.equal((await ensureSecrets(config, recorder())).tokenSecret, 'tooshort');
  writeFileSync(join(config.dataDir, 'api-key'), 'short-key\n');
  await assert.rejects(ensureSecrets(config, recorder()), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /apiKey must be .* at least 16 bytes \(got 9 bytes from file /);
    assert.ok(!error.message.includes('short-key'));
    return true;
  });

  writeFileSync(join(config.dataDir, 'token-secret'), '\n');
  await assert.rejects(ensureSecrets(config, recorder()), /token-secret is empty/);
});
