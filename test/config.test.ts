import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { BUILTIN_NAMESPACES, DEFAULT_CONFIG, DEFAULT_NAMESPACE } from '../src/config/defaults.js';
import { parseDuration } from '../src/config/duration.js';
import { ENV_VARS } from '../src/config/env.js';
import { ConfigError, loadConfig, type LoadConfigOptions } from '../src/config/schema.js';

const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh working directory, optionally holding a parley.config.json. */
function workdir(file?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  dirs.push(dir);
  if (file !== undefined) {
    writeFileSync(join(dir, 'parley.config.json'), typeof file === 'string' ? file : JSON.stringify(file));
  }
  return dir;
}

/** loadConfig isolated from the test process's own environment. */
function load(options: LoadConfigOptions = {}) {
  return loadConfig({ env: {}, argv: [], cwd: options.cwd ?? workdir(), ...options });
}

/** Asserts loading rejects with a one-line ConfigError matching every pattern. */
async function rejects(options: LoadConfigOptions, ...patterns: RegExp[]): Promise<ConfigError> {
  let caught: unknown;
  try {
    await load(options);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.match(caught.message, /^config: /);
  assert.ok(!caught.message.includes('\n'), `message is not one line: ${caught.message}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

describe('defaults', () => {
  test('no file, no env, no flags gives the documented defaults', async () => {
    const cwd = workdir();
    const config = await load({ cwd });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.ok(isAbsolute(config.dataDir));
    assert.equal(config.dataDir, join(cwd, 'data'));
    assert.equal(config.tokenSecret, '');
    assert.equal(config.apiKey, '');
    assert.deepEqual(config.allowedOrigins, []);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.logFile, '');
    assert.equal(config.maxMessageSize, 65536);
    assert.equal(config.commandRateLimit, 100);
    assert.equal(config.commandBurst, 200);
    assert.equal(config.maxQueuedBytes, 1048576);
    assert.equal(config.pingInterval, 25);
    assert.equal(config.pongTimeout, 10);
    assert.equal(config.connectTimeout, 10);
    assert.equal(config.historyMaxLimit, 1000);
    assert.equal(config.maxChannelsPerConnection, 256);
    assert.equal(config.shutdownTimeout, 10);
    assert.equal(config.allowAnonymous, false);
    assert.deepEqual(config.defaultNamespace, DEFAULT_NAMESPACE);
  });

  test('the built-in namespaces have their documented options', async () => {
    const { namespaces, defaultNamespace } = await load();
    assert.deepEqual(Object.keys(namespaces).sort(), ['dm', 'room', 'user']);
    assert.deepEqual(defaultNamespace, {
      presence: false, joinLeave: false, joinLeaveMaxClients: 100, historySize: 0, historyTtl: 0, recover: false,
      allowPublish: true, allowSubscribe: true, allowPresence: true, allowHistory: true, membersFromName: false,
      proxySubscribe: false, proxyPublish: false, allowedDeltaTypes: [],
    });
    assert.deepEqual(namespaces['room'], {
      presence: true, joinLeave: true, joinLeaveMaxClients: 100, historySize: 1000, historyTtl: 0, recover: true,
      allowPublish: true, allowSubscribe: true, allowPresence: true, allowHistory: true, membersFromName: false,
      proxySubscribe: false, proxyPublish: false, allowedDeltaTypes: [],
    });
    assert.deepEqual(namespaces['dm'], {
      presence: true, joinLeave: false, joinLeaveMaxClients: 100, historySize: 1000, historyTtl: 0, recover: true,
      allowPublish: 'members', allowSubscribe: 'members', allowPresence: 'members', allowHistory: 'members',
      membersFromName: true, proxySubscribe: false, proxyPublish: false, allowedDeltaTypes: [],
    });
    assert.deepEqual(namespaces['user'], {
      presence: false, joinLeave: false, joinLeaveMaxClients: 100, historySize: 100, historyTtl: 86400, recover: true,
      allowPublish: false, allowSubscribe: 'members', allowPresence: false, allowHistory: 'members',
      membersFromName: true, proxySubscribe: false, proxyPublish: false, allowedDeltaTypes: [],
    });
  });

  test('the result is deeply frozen, and so are the defaults', async () => {
    const config = await load();
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.allowedOrigins));
    assert.ok(Object.isFrozen(config.namespaces));
    assert.ok(Object.isFrozen(config.namespaces['room']));
    assert.ok(Object.isFrozen(config.defaultNamespace));
    assert.ok(Object.isFrozen(DEFAULT_CONFIG) && Object.isFrozen(BUILTIN_NAMESPACES['dm']));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  test('a channel prefix named like an Object property finds no namespace', async () => {
    const { namespaces } = await load();
    assert.equal(namespaces['constructor'], undefined);
    assert.equal(namespaces['toString'], undefined);
  });
});

describe('sources and precedence', () => {
  test('file < env < flags for port and dataDir', async () => {
    const cwd = workdir({ port: 7000, dataDir: 'from-file' });
    const fileOnly = await load({ cwd });
    assert.equal(fileOnly.port, 7000);
    assert.equal(fileOnly.dataDir, join(cwd, 'from-file'));

    const env = { PARLEY_PORT: '7001', PARLEY_DATA_DIR: 'from-env' };
    const withEnv = await load({ cwd, env });
    assert.equal(withEnv.port, 7001);
    assert.equal(withEnv.dataDir, join(cwd, 'from-env'));

    const withFlags = await load({ cwd, env, argv: ['--port', '7002', '--data-dir=/abs/from-flag'] });
    assert.equal(withFlags.port, 7002);
    assert.equal(withFlags.dataDir, '/abs/from-flag');
  });

  test('PORT sets the port; PARLEY_PORT wins over it', async () => {
    assert.equal((await load({ env: { PORT: '3000' } })).port, 3000);
    assert.equal((await load({ env: { PORT: '3000', PARLEY_PORT: '3001' } })).port, 3001);
  });

  test('every variable in the env table sets its key', async () => {
    const env: Record<string, string> = {
      HOST: '127.0.0.1', PARLEY_HOST: '::1', PORT: '1', PARLEY_PORT: '2', PARLEY_DATA_DIR: '/srv/parley',
      PARLEY_TOKEN_SECRET: 'a'.repeat(32), PARLEY_API_KEY: 'k'.repeat(16),
      PARLEY_ALLOWED_ORIGINS: 'https://Chat.Example.com:443, http://localhost:5173',
      PARLEY_LOG_LEVEL: 'debug', PARLEY_LOG_FILE: '/var/log/parley.log', PARLEY_LOG_FORMAT: 'json',
      PARLEY_MAX_MESSAGE_SIZE: '2048', PARLEY_ALLOW_ANONYMOUS: 'true',
      PARLEY_AUTH_MODE: 'token', PARLEY_GUEST_SIGN_IN: 'false', PARLEY_TOKEN_URL: 'https://example.com/parley-token',
      PARLEY_TRUST_PROXY: '10.0.0.0/8, loopback',
      PARLEY_REDIS_URL: 'redis://10.0.0.5:6379', PARLEY_REDIS_PREFIX: 'chat-eu:', PARLEY_POSTGRES_URL: 'postgres://parley:pw@10.0.0.6:5432/parley',
      PARLEY_CONNECT_PROXY_URL: 'http://app:3000/centrifugo/connect', PARLEY_REFRESH_PROXY_URL: 'http://app:3000/centrifugo/refresh',
      PARLEY_SUBSCRIBE_PROXY_URL: 'http://app:3000/centrifugo/subscribe', PARLEY_PUBLISH_PROXY_URL: 'https://app/centrifugo/publish',
      PARLEY_RPC_PROXY_URL: 'https://app/centrifugo/rpc',
      PARLEY_TOKEN_PUBLIC_KEY: EC_PEM, PARLEY_TOKEN_JWKS_URL: 'http://idp.internal/jwks', PARLEY_TOKEN_JWKS_ALLOW_HTTP: 'yes',
      PARLEY_TOKEN_JWKS_CACHE_TTL: '1h', PARLEY_TOKEN_JWKS_COOLDOWN: '30s', PARLEY_TOKEN_JWKS_TIMEOUT: '2s',
      PARLEY_TOKEN_ISSUER: 'https://idp.example.com/', PARLEY_TOKEN_AUDIENCE: 'parley',
    };
    assert.deepEqual(Object.keys(env).sort(), ENV_VARS.map((v) => v.name).sort());
    const config = await load({ env });
    assert.equal(config.host, '::1');
    assert.equal(config.port, 2);
    assert.equal(config.dataDir, '/srv/parley');
    assert.equal(config.tokenSecret, 'a'.repeat(32));
    assert.equal(config.apiKey, 'k'.repeat(16));
    assert.deepEqual(config.allowedOrigins, ['https://chat.example.com', 'http://localhost:5173']);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.logFile, '/var/log/parley.log');
    assert.equal(config.logFormat, 'json');
    assert.equal(config.maxMessageSize, 2048);
    assert.equal(config.allowAnonymous, true);
    assert.equal(config.authMode, 'token');
    assert.equal(config.guestSignIn, false);
    assert.equal(config.tokenUrl, 'https://example.com/parley-token');
    assert.deepEqual(config.trustProxy, ['10.0.0.0/8', 'loopback']);
    assert.equal(config.redisUrl, 'redis://10.0.0.5:6379');
    assert.equal(config.redisPrefix, 'chat-eu:');
    assert.equal(config.postgresUrl, 'postgres://parley:pw@10.0.0.6:5432/parley');
    assert.equal(config.connectProxyUrl, 'http://app:3000/centrifugo/connect');
    assert.equal(config.refreshProxyUrl, 'http://app:3000/centrifugo/refresh');
    assert.equal(config.subscribeProxyUrl, 'http://app:3000/centrifugo/subscribe');
    assert.equal(config.publishProxyUrl, 'https://app/centrifugo/publish');
    assert.equal(config.rpcProxyUrl, 'https://app/centrifugo/rpc');
    assert.equal(config.tokenPublicKey, EC_PEM);
    assert.equal(config.tokenJwksUrl, 'http://idp.internal/jwks');
    assert.equal(config.tokenJwksAllowHttp, true);
    assert.equal(config.tokenJwksCacheTtl, 3600);
    assert.equal(config.tokenJwksCooldown, 30);
    assert.equal(config.tokenJwksTimeout, 2);
    assert.equal(config.tokenIssuer, 'https://idp.example.com/');
    assert.equal(config.tokenAudience, 'parley');
  });

  test('cluster settings: redisUrl needs postgresUrl and explicit secrets; bad URLs never echo the value', async () => {
    const secrets = { PARLEY_TOKEN_SECRET: 'a'.repeat(32), PARLEY_API_KEY: 'k'.repeat(16) };
    await assert.rejects(load({ env: { ...secrets, PARLEY_REDIS_URL: 'redis://127.0.0.1:6379' } }), /redisUrl needs postgresUrl/);
    const both = { PARLEY_REDIS_URL: 'redis://127.0.0.1:6379', PARLEY_POSTGRES_URL: 'postgres://127.0.0.1/parley' };
    await assert.rejects(load({ env: both }), /tokenSecret must be set when redisUrl is/);
    await assert.rejects(load({ env: { ...both, PARLEY_TOKEN_SECRET: 'a'.repeat(32) } }), /apiKey must be set when redisUrl is/);
    await assert.rejects(load({ env: { PARLEY_REDIS_PREFIX: 'a{b}' } }), /redisPrefix must be 1 to 64 letters/);
    const config = await load({ env: { ...both, ...secrets } });
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6379');
    // PostgreSQL alone is a single node on PostgreSQL: allowed, secrets may still be generated.
    assert.equal((await load({ env: { PARLEY_POSTGRES_URL: 'postgresql://db.internal/parley' } })).postgresUrl, 'postgresql://db.internal/parley');
    for (const bad of ['http://user:hunter2@db/parley', 'not a url hunter2', 'postgres:///nohost']) {
      const error = await load({ env: { PARLEY_POSTGRES_URL: bad } }).then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof Error, `${bad} is refused`);
      assert.match(error.message, /postgresUrl must be empty or a postgres:\/\/ or postgresql:\/\/ URL with a host/);
      assert.doesNotMatch(error.message, /hunter2|nohost/);
    }
  });

  test('an empty environment variable counts as unset', async () => {
    assert.equal((await load({ env: { PORT: '' } })).port, 8080);
  });

  test('flags: kebab-case keys, switches, --config', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'other.json'), JSON.stringify({ logLevel: 'warn' }));
    const config = await load({
      cwd,
      argv: ['--config', 'other.json', '--allow-anonymous', '--allowed-origins', 'a://b,*', '--ping-interval', '1m',
        '--log-file', 'logs/p.log', '--command-rate-limit', '2.5'],
    });
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.allowAnonymous, true);
    assert.deepEqual(config.allowedOrigins, ['a://b', '*']);
    assert.equal(config.pingInterval, 60);
    assert.equal(config.logFile, join(cwd, 'logs/p.log'));
    assert.equal(config.commandRateLimit, 2.5);
    assert.equal((await load({ env: { PARLEY_ALLOW_ANONYMOUS: '1' }, argv: ['--no-allow-anonymous'] })).allowAnonymous, false);
    assert.equal((await load({ argv: ['--allow-anonymous', 'false'] })).allowAnonymous, false);
  });

  test('the configPath option names the file when there is no --config', async () => {
    const cwd = workdir({ port: 1 });
    writeFileSync(join(cwd, 'named.json'), JSON.stringify({ port: 2 }));
    assert.equal((await load({ cwd, configPath: 'named.json' })).port, 2);
    assert.equal((await load({ cwd, configPath: 'named.json', argv: ['--config', 'parley.config.json'] })).port, 1);
  });

  test('duration settings accept numbers and duration strings', async () => {
    const config = await load({ cwd: workdir({ pingInterval: '30s', pongTimeout: 5, shutdownTimeout: '1m30s' }) });
    assert.equal(config.pingInterval, 30);
    assert.equal(config.pongTimeout, 5);
    assert.equal(config.shutdownTimeout, 90);
  });
});

describe('bad values', () => {
  test('a bad port from each source names the key and the source', async () => {
    await rejects({ cwd: workdir({ port: 70000 }) }, /port must be an integer between 0 and 65535/, /got 70000/, /from file parley\.config\.json/);
    await rejects({ cwd: workdir({ port: '8080' }) }, /^config: port must be/, /got "8080"/);
    await rejects({ env: { PORT: 'abc' } }, /^config: port must be/, /got "abc" from env PORT/);
    await rejects({ env: { PARLEY_PORT: '-1' } }, /from env PARLEY_PORT/);
    await rejects({ argv: ['--port', '80.5'] }, /^config: port must be/, /from flag --port/);
  });

  test('a bad value is rejected even when a higher source overrides it', async () => {
    await rejects({ env: { PORT: 'abc' }, argv: ['--port', '9000'] }, /env PORT/);
  });

  test('range checks', async () => {
    await rejects({ argv: ['--max-message-size', '1023'] }, /maxMessageSize must be an integer between 1024 and 16777216/);
    await rejects({ argv: ['--max-message-size', String(16 * 1024 * 1024 + 1)] }, /maxMessageSize/);
    await rejects({ argv: ['--command-burst', '0'] }, /commandBurst must be an integer >= 1/);
    await rejects({ argv: ['--presence-max-clients', '0'] }, /^config: presenceMaxClients must be an integer >= 1/);
    await rejects({ argv: ['--max-queued-bytes', '-5'] }, /maxQueuedBytes/);
    await rejects({ argv: ['--log-level', 'verbose'] }, /logLevel must be one of fatal, error, warn, info, debug, trace, silent/);
    await rejects({ argv: ['--ping-interval', '0'] }, /pingInterval must be/);
    await rejects({ argv: ['--connect-timeout', '30d'] }, /connectTimeout must be/, /at most/);
    await rejects({ env: { PARLEY_ALLOW_ANONYMOUS: 'maybe' } }, /allowAnonymous must be true or false/);
    await rejects({ cwd: workdir({ host: '' }) }, /host must be a non-empty string/);
  });

  test('contradictions between top-level keys', async () => {
    await rejects({ argv: ['--pong-timeout', '30s'] }, /pongTimeout must be less than pingInterval/, /flag --pong-timeout/);
    await rejects({ argv: ['--max-message-size', '2097152'] }, /maxQueuedBytes must be at least maxMessageSize/);
  });

  test('allowed origins: * or scheme://host[:port] with no path', async () => {
    const ok = await load({ cwd: workdir({ allowedOrigins: ['*', 'http://[::1]:8080', 'capacitor://localhost', 'HTTP://x.io:80'] }) });
    assert.deepEqual(ok.allowedOrigins, ['*', 'http://[::1]:8080', 'capacitor://localhost', 'http://x.io']);
    await rejects({ cwd: workdir({ allowedOrigins: ['https://a.com/'] }) }, /allowedOrigins\[0\] must be \* or an origin/);
    await rejects({ cwd: workdir({ allowedOrigins: ['*', 'a.com'] }) }, /allowedOrigins\[1\]/, /got "a\.com"/);
    await rejects({ argv: ['--allowed-origins', 'https://a.com/path'] }, /allowedOrigins\[0\]/, /flag --allowed-origins/);
    await rejects({ cwd: workdir({ allowedOrigins: 'https://a.com' }) }, /allowedOrigins must be a list of origins/);
    await rejects({ cwd: workdir({ allowedOrigins: ['https://a.com:99999'] }) }, /allowedOrigins\[0\]/);
  });

  test('an unknown top-level key is rejected, with a suggestion', async () => {
    await rejects({ cwd: workdir({ prot: 9000 }) }, /unknown key prot/, /did you mean port\?/);
  });

  test('unknown and malformed flags are rejected', async () => {
    await rejects({ argv: ['--prot', '9000'] }, /unknown flag --prot; did you mean --port\?/);
    await rejects({ argv: ['--port'] }, /flag --port needs a value/);
    await rejects({ argv: ['--port', '--host', 'x'] }, /flag --port needs a value/);
    const error = await rejects({ argv: ['serve'] }, /unexpected argument at position 1/);
    assert.ok(!error.message.includes('serve'));
    await rejects({ argv: ['--config'] }, /flag --config needs a value/);
  });
});

describe('config file', () => {
  test('a file that is not JSON is named in the error', async () => {
    const error = await rejects({ cwd: workdir('{ "port": 9000, }') }, /config file parley\.config\.json is not valid JSON/);
    assert.equal(error.source, 'file parley.config.json');
  });

  test('a file holding something other than an object is rejected', async () => {
    await rejects({ cwd: workdir('[1, 2]') }, /must hold a JSON object \(got an array\)/);
  });

  test('a named file that is missing is an error; an absent default file is not', async () => {
    await rejects({ argv: ['--config', 'nope.json'] }, /config file nope\.json not found/);
    await rejects({ configPath: '/definitely/not/here.json' }, /config file \/definitely\/not\/here\.json not found/);
    assert.equal((await load({ cwd: workdir() })).port, 8080);
  });

  test('a byte order mark is accepted', async () => {
    assert.equal((await load({ cwd: workdir('\uFEFF{"port": 1234}') })).port, 1234);
  });
});

describe('namespaces', () => {
  test('an override merges over the built-in namespace of that name', async () => {
    const config = await load({ cwd: workdir({ namespaces: { room: { historySize: 50, joinLeave: false } } }) });
    assert.deepEqual(config.namespaces['room'], { ...BUILTIN_NAMESPACES['room'], historySize: 50, joinLeave: false });
    assert.deepEqual(config.namespaces['dm'], BUILTIN_NAMESPACES['dm']);
  });

  test('a new namespace merges over the built-in default namespace', async () => {
    const config = await load({
      cwd: workdir({ defaultNamespace: { presence: true }, namespaces: { news: { historySize: 10, historyTtl: '7d', allowPublish: false } } }),
    });
    assert.deepEqual(config.defaultNamespace, { ...DEFAULT_NAMESPACE, presence: true });
    assert.deepEqual(config.namespaces['news'], { ...DEFAULT_NAMESPACE, historySize: 10, historyTtl: 604800, allowPublish: false });
  });

  test('a typo in a namespace option is rejected with the key path', async () => {
    await rejects(
      { cwd: workdir({ namespaces: { room: { histroySize: 10 } } }) },
      /unknown key namespaces\.room\.histroySize/,
      /did you mean historySize\?/,
    );
    await rejects({ cwd: workdir({ defaultNamespace: { presense: true } }) }, /unknown key defaultNamespace\.presense/);
  });

  test('bad option values name the full key path', async () => {
    await rejects(
      { cwd: workdir({ namespaces: { room: { historySize: 'abc' } } }) },
      /^config: namespaces\.room\.historySize must be an integer >= 0 \(got "abc" from file parley\.config\.json\)$/,
    );
    await rejects({ cwd: workdir({ namespaces: { room: { allowPublish: 'everyone' } } }) }, /namespaces\.room\.allowPublish must be true, false or "members"/);
    await rejects({ cwd: workdir({ namespaces: { room: { historyTtl: '1 day' } } }) }, /namespaces\.room\.historyTtl must be/);
    await rejects(
      { cwd: workdir({ namespaces: { room: { joinLeaveMaxClients: 0 } } }) },
      /^config: namespaces\.room\.joinLeaveMaxClients must be an integer >= 1 \(got 0 from file parley\.config\.json\)$/,
    );
    await rejects({ cwd: workdir({ namespaces: { room: true } }) }, /namespaces\.room must be an object/);
    await rejects({ cwd: workdir({ namespaces: [] }) }, /namespaces must be an object/);
  });

  test('recover without history is a contradiction', async () => {
    await rejects({ cwd: workdir({ namespaces: { room: { historySize: 0 } } }) }, /namespaces\.room\.recover needs history/);
    await rejects({ cwd: workdir({ defaultNamespace: { recover: true } }) }, /defaultNamespace\.recover needs history/);
    const ok = await load({ cwd: workdir({ namespaces: { room: { historySize: 0, recover: false } } }) });
    assert.equal(ok.namespaces['room']?.historySize, 0);
  });

  test('"members" rules need membersFromName', async () => {
    await rejects({ cwd: workdir({ namespaces: { team: { allowPublish: 'members' } } }) }, /namespaces\.team\.allowPublish is "members" but namespaces\.team\.membersFromName is false/);
    await rejects({ cwd: workdir({ namespaces: { dm: { membersFromName: false } } }) }, /namespaces\.dm\.allow\w+ is "members"/);
    await rejects({ cwd: workdir({ defaultNamespace: { membersFromName: true } }) }, /defaultNamespace\.membersFromName must be false/);
  });

  test('namespace names are restricted', async () => {
    await rejects({ cwd: workdir({ namespaces: { 'a:b': {} } }) }, /namespace name "a:b" must match/);
    await rejects({ cwd: workdir({ namespaces: { '': {} } }) }, /namespace name "" must match/);
    const ok = await load({ cwd: workdir({ namespaces: { 'team.v2_x-y': {} } }) });
    assert.deepEqual(ok.namespaces['team.v2_x-y'], DEFAULT_NAMESPACE);
  });
});

describe('secrets never appear in errors', () => {
  const SECRET = 'super-secret-token-value-0123456789';

  test('a bad secret is described without its value; a short tokenSecret is accepted (warned at start-up)', async () => {
    const short = 'hunter2-short';
    assert.equal((await load({ env: { PARLEY_TOKEN_SECRET: short } })).tokenSecret, short);
    const error = await rejects({ env: { PARLEY_API_KEY: short } }, /apiKey must be/, /got 13 bytes from env PARLEY_API_KEY/);
    assert.ok(!error.message.includes(short));
    const typedSecret = await rejects({ cwd: workdir({ tokenSecret: 12345678901234567890 }) }, /tokenSecret must be a string/, /got a number/);
    assert.ok(!typedSecret.message.includes('1234567890'));
    const typed = await rejects({ cwd: workdir({ apiKey: 12345678901234567890 }) }, /apiKey must be/, /got a number/);
    assert.ok(!typed.message.includes('1234567890'));
  });

  test('errors elsewhere do not mention a provided secret', async () => {
    const cases: LoadConfigOptions[] = [
      { env: { PARLEY_TOKEN_SECRET: SECRET, PORT: 'x' } },
      { argv: ['--token-secret', SECRET, '--bogus'] },
      { argv: ['--token-secret', SECRET, SECRET] },
      { argv: [`--token-secrt=${SECRET}`] },
      { cwd: workdir(`{"tokenSecret": "${SECRET}", "apiKey": ${SECRET}}`) },
      { cwd: workdir(`{"tokenSecret": ${SECRET}}`) },
      { cwd: workdir({ tokenSecret: SECRET, namespaces: { x: { bad: 1 } } }) },
    ];
    for (const options of cases) {
      const error = await rejects(options);
      assert.ok(!error.message.includes(SECRET), `secret in: ${error.message}`);
      assert.ok(!error.message.includes(SECRET.slice(0, 10)), `part of the secret in: ${error.message}`);
    }
  });
});

describe('parseDuration', () => {
  test('numbers and unit strings become seconds', () => {
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(12.5), 12.5);
    assert.equal(parseDuration('45'), 45);
    assert.equal(parseDuration('500ms'), 0.5);
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('5m'), 300);
    assert.equal(parseDuration('1h'), 3600);
    assert.equal(parseDuration('7d'), 604800);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('1d2h3m4s5ms'), 93784.005);
    assert.equal(parseDuration('1.5h'), 5400);
    assert.equal(parseDuration(' 10s '), 10);
  });

  test('anything else is a RangeError', () => {
    for (const bad of [-1, Number.NaN, Infinity, '', 'abc', '-5s', '5 s', '30m1h', '1h1h', '5x', '1h30', 'ms', 's5']) {
      assert.throws(() => parseDuration(bad), RangeError, `accepted ${String(bad)}`);
    }
  });
});

describe('config: who may join (authMode)', () => {
  const options = ({ argv = [], file }: { argv?: string[]; file?: Record<string, unknown> }): LoadConfigOptions => ({ argv, cwd: workdir(file) });
  const modeOf = async (given: { argv?: string[]; file?: Record<string, unknown> }) => {
    const config = await load(options(given));
    return [config.authMode, config.guestSignIn];
  };

  test('open by default; tokenUrl implies token; the older guestSignIn means guest (true) or invite (false)', async () => {
    assert.deepEqual(await modeOf({}), ['open', false]);
    assert.deepEqual(await modeOf({ argv: ['--token-url', 'https://example.com/t'] }), ['token', false]);
    assert.deepEqual(await modeOf({ file: { guestSignIn: true } }), ['guest', true]);
    assert.deepEqual(await modeOf({ file: { guestSignIn: false } }), ['invite', false]);
    assert.deepEqual(await modeOf({ argv: ['--no-guest-sign-in', '--token-url', 'https://example.com/t'] }), ['token', false]);
    assert.deepEqual(await modeOf({ argv: ['--auth-mode', 'guest', '--guest-sign-in'] }), ['guest', true], 'agreeing is fine');
    assert.deepEqual(await modeOf({ argv: ['--auth-mode', 'invite', '--no-guest-sign-in'] }), ['invite', false]);
    assert.equal((await load({})).sessionTtl, 30 * 86_400);
    assert.equal((await load({ argv: ['--session-ttl', '7d'] })).sessionTtl, 7 * 86_400);
    assert.deepEqual((await load({ argv: ['--trust-proxy', '127.0.0.1,fd00::/8'] })).trustProxy, ['127.0.0.1', 'fd00::/8']);
  });

  test('contradictions stop start-up with one line naming the key', async () => {
    const cases: [{ argv?: string[]; file?: Record<string, unknown> }, RegExp][] = [
      [{ file: { authMode: 'invite', guestSignIn: true } }, /^config: guestSignIn true \(from file .*\) contradicts authMode invite \(from file .*\); remove guestSignIn/],
      [{ argv: ['--auth-mode', 'guest', '--no-guest-sign-in'] }, /^config: guestSignIn false \(from flag --no-guest-sign-in\) contradicts authMode guest/],
      [{ argv: ['--guest-sign-in', '--token-url', 'https://example.com/t'] }, /^config: guestSignIn true \(from flag --guest-sign-in\) contradicts tokenUrl/],
      [{ argv: ['--auth-mode', 'token'] }, /^config: authMode token needs tokenUrl/],
      [{ argv: ['--auth-mode', 'open', '--token-url', 'https://example.com/t'] }, /^config: tokenUrl \(from flag --token-url\) is only used with authMode token/],
      [{ argv: ['--auth-mode', 'closed'] }, /^config: authMode must be one of open, invite, guest, token/],
      [{ argv: ['--session-ttl', '0'] }, /^config: sessionTtl must be/],
      [{ argv: ['--trust-proxy', '10.0.0.0/33'] }, /^config: trustProxy\[0\] must be an IP address, a CIDR range/],
      [{ argv: ['--trust-proxy', 'proxy.example.com'] }, /^config: trustProxy\[0\] must be/],
    ];
    for (const [given, message] of cases) await rejects(options(given), message);
  });
});

describe('config: backend proxy', () => {
  test('proxy URLs, timeout and forwarded headers are read and normalized', async () => {
    const config = await load({
      cwd: workdir({ connectProxyUrl: 'http://app:3000/connect', proxyTimeout: '1500ms', proxyHttpHeaders: ['Cookie', 'X-Request-Id', 'cookie'] }),
    });
    assert.equal(config.connectProxyUrl, 'http://app:3000/connect');
    assert.equal(config.proxyTimeout, 1.5);
    assert.deepEqual(config.proxyHttpHeaders, ['cookie', 'x-request-id']);
    const flags = await load({ argv: ['--proxy-http-headers', 'Authorization, Cookie', '--rpc-proxy-url', 'https://app/rpc'] });
    assert.deepEqual(flags.proxyHttpHeaders, ['authorization', 'cookie']);
    assert.equal(flags.rpcProxyUrl, 'https://app/rpc');
    const defaults = await load({});
    assert.equal(defaults.proxyTimeout, 1);
    assert.deepEqual(defaults.proxyHttpHeaders, []);
    assert.equal(defaults.namespaces['room']?.proxySubscribe, false);
  });

  test('bad proxy settings are one-line errors naming the key', async () => {
    await rejects({ cwd: workdir({ connectProxyUrl: 'ftp://app/connect' }) }, /^config: connectProxyUrl must be empty or a http:\/\/ or https:\/\/ URL/);
    await rejects({ cwd: workdir({ publishProxyUrl: 'not a url' }) }, /^config: publishProxyUrl must be/);
    await rejects({ cwd: workdir({ proxyTimeout: 0 }) }, /^config: proxyTimeout must be/);
    await rejects({ cwd: workdir({ proxyHttpHeaders: ['Host'] }) }, /^config: proxyHttpHeaders\[0\] must be a header name/);
    await rejects({ cwd: workdir({ proxyHttpHeaders: ['Sec-WebSocket-Key'] }) }, /^config: proxyHttpHeaders\[0\] must be/);
    await rejects({ cwd: workdir({ proxyHttpHeaders: ['Bad Header'] }) }, /^config: proxyHttpHeaders\[0\] must be/);
    await rejects({ cwd: workdir({ proxyHttpHeaders: 'Cookie' }) }, /^config: proxyHttpHeaders must be a list of header names/);
    await rejects({ cwd: workdir({ namespaces: { room: { proxySubscribe: true } } }) }, /^config: namespaces\.room\.proxySubscribe needs subscribeProxyUrl/);
    await rejects({ cwd: workdir({ defaultNamespace: { proxyPublish: true } }) }, /^config: defaultNamespace\.proxyPublish needs publishProxyUrl/);
    const ok = await load({ cwd: workdir({ subscribeProxyUrl: 'http://app/subscribe', namespaces: { room: { proxySubscribe: true } } }) });
    assert.equal(ok.namespaces['room']?.proxySubscribe, true);
  });
});

describe('config: token keys', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ed25519Pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

  test('none by default', async () => {
    const config = await load();
    assert.equal(config.tokenPublicKey, '');
    assert.equal(config.tokenJwksUrl, '');
    assert.equal(config.tokenJwksAllowHttp, false);
    assert.equal(config.tokenJwksCacheTtl, 600);
    assert.equal(config.tokenJwksCooldown, 10);
    assert.equal(config.tokenJwksTimeout, 5);
    assert.equal(config.tokenIssuer, '');
    assert.equal(config.tokenAudience, '');
  });

  test('tokenPublicKey: PEM text with several keys, one-line \\n text, or a file path made absolute', async () => {
    const several = `${rsaPem}\n${EC_PEM}${ed25519Pem}`;
    assert.equal((await load({ cwd: workdir({ tokenPublicKey: several }) })).tokenPublicKey, several);
    const oneLine = EC_PEM.trim().replaceAll('\n', '\\n');
    assert.equal((await load({ env: { PARLEY_TOKEN_PUBLIC_KEY: oneLine } })).tokenPublicKey, oneLine);
    const dir = workdir();
    writeFileSync(join(dir, 'idp.pem'), several);
    const config = await load({ cwd: dir, argv: ['--token-public-key', 'idp.pem'] });
    assert.equal(config.tokenPublicKey, join(dir, 'idp.pem'));
  });

  test('tokenPublicKey that cannot be used is refused in one line naming the key', async () => {
    await rejects({ argv: ['--token-public-key', 'missing.pem'] }, /^config: tokenPublicKey cannot read the key file .*missing\.pem \(ENOENT\) \(from flag --token-public-key\)$/);
    await rejects({ env: { PARLEY_TOKEN_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----' } }, /tokenPublicKey key 1 is not a valid PEM public key/);
    await rejects({ env: { PARLEY_TOKEN_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----' } }, /tokenPublicKey holds no PEM public key/);
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const error = await rejects({ env: { PARLEY_TOKEN_PUBLIC_KEY: privatePem } }, /tokenPublicKey key 1 is a private key/);
    assert.ok(!error.message.includes(privatePem.slice(40, 80)), 'no key material in the message');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await rejects({ env: { PARLEY_TOKEN_PUBLIC_KEY: small } }, /tokenPublicKey key 1 is a 1024-bit RSA key; at least 2048 bits/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await rejects({ env: { PARLEY_TOKEN_PUBLIC_KEY: `${EC_PEM}${k1}` } }, /tokenPublicKey key 2 is an EC key on secp256k1/);
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await rejects({ env: { PARLEY_TOKEN_PUBLIC_KEY: x25519 } }, /tokenPublicKey key 1 is a x25519 key/);
  });

  test('tokenJwksUrl: a URL, https unless loopback or allowed', async () => {
    await rejects({ env: { PARLEY_TOKEN_JWKS_URL: 'not a url' } }, /tokenJwksUrl must be empty or a https:\/\/ or http:\/\/ URL/);
    await rejects({ env: { PARLEY_TOKEN_JWKS_URL: 'ftp://idp.example.com/jwks' } }, /tokenJwksUrl must be/);
    await rejects({ env: { PARLEY_TOKEN_JWKS_URL: 'http://idp.example.com/jwks' } }, /^config: tokenJwksUrl must be https .* or set tokenJwksAllowHttp \(from env PARLEY_TOKEN_JWKS_URL\)$/);
    for (const url of ['https://idp.example.com/jwks', 'http://127.0.0.1:8081/jwks', 'http://localhost/jwks', 'http://[::1]:9/jwks']) {
      assert.equal((await load({ env: { PARLEY_TOKEN_JWKS_URL: url } })).tokenJwksUrl, url);
    }
    const allowed = await load({ argv: ['--token-jwks-url', 'http://idp.internal/jwks', '--token-jwks-allow-http'] });
    assert.equal(allowed.tokenJwksAllowHttp, true);
  });

  test('JWKS timings are positive durations', async () => {
    await rejects({ env: { PARLEY_TOKEN_JWKS_COOLDOWN: '0' } }, /tokenJwksCooldown must be/);
    await rejects({ env: { PARLEY_TOKEN_JWKS_TIMEOUT: '2m' } }, /tokenJwksTimeout must be .*at most 60s/);
    await rejects({ env: { PARLEY_TOKEN_JWKS_CACHE_TTL: 'soon' } }, /tokenJwksCacheTtl must be/);
    assert.equal((await load({ env: { PARLEY_TOKEN_JWKS_TIMEOUT: '500ms' } })).tokenJwksTimeout, 0.5);
  });
});
