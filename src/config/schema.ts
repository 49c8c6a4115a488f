/**
 * Loading configuration: defaults, then the config file, then environment
 * variables, then flags, each checked as it is applied, and the result frozen.
 * This runs once at start-up; a problem is a {@link ConfigError} whose
 * one-line message the CLI prints before exiting non-zero.
 */
import { resolve } from 'node:path';
import { ConfigError, closestName } from './config-error.js';
import { DEFAULT_CONFIG } from './defaults.js';
import { readEnv } from './env.js';
import { SCALAR_FIELDS, SCALAR_KEYS, isScalarKey, type ScalarKey } from './fields.js';
import { readConfigFile } from './file.js';
import { parseFlags } from './flags.js';
import { deepFreeze } from './freeze.js';
import { resolveNamespaces } from './namespaces.js';
import { resolveTokenKeys } from './token-keys.js';
import type { Config } from './types.js';
import { note, type At } from './validate.js';

export { ConfigError } from './config-error.js';

/** Inputs to {@link loadConfig}; each defaults to the running process's own. */
export interface LoadConfigOptions {
  /** Configuration flags only (no command words), e.g. `['--port', '9000']`. @default [] */
  argv?: readonly string[];
  /** Environment to read (see `env.ts` for the variables). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Directory that relative paths (config file, `dataDir`, `logFile`) are resolved against. @default process.cwd() */
  cwd?: string;
  /** Config file to read when no `--config` flag is given; must exist. @default "parley.config.json" in `cwd`, if present */
  configPath?: string;
}

type MutableConfig = { -readonly [K in keyof Config]: Config[K] };

/**
 * Builds the server configuration.
 *
 * Precedence, lowest first: defaults, config file, environment, flags. Every
 * value given is checked, even one a higher source overrides, so a mistake
 * does not lie in wait until the override is removed.
 *
 * The result: `dataDir` and a non-empty `logFile` are absolute; `tokenSecret`
 * and `apiKey` are `""` unless given (`ensureSecrets` fills them); the whole
 * object is deeply frozen.
 *
 * @throws ConfigError with a one-line message naming the key (and its source)
 * for any unknown key or flag, bad value, or contradiction. Messages never
 * contain the value of `tokenSecret` or `apiKey`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const flags = parseFlags(options.argv ?? []);
  const env = readEnv(options.env ?? process.env);
  const file = await readConfigFile(flags.configPath ?? options.configPath, cwd);

  const config: MutableConfig = { ...DEFAULT_CONFIG };
  const sources: Partial<Record<ScalarKey, string>> = {};
  const apply = (key: ScalarKey, value: unknown, at: At): void => {
    setField(config, key, value, at);
    sources[key] = at.source;
  };

  const fileSource = file && `file ${file.label}`;
  if (file) {
    for (const [key, value] of Object.entries(file.data)) {
      if (key === 'defaultNamespace' || key === 'namespaces') continue;
      if (!isScalarKey(key)) throw unknownKey(key, fileSource);
      apply(key, value, { path: key, source: fileSource, textual: false });
    }
  }
  Object.assign(config, resolveNamespaces(file?.data['defaultNamespace'], file?.data['namespaces'], fileSource));

  for (const { key, value, name } of env) apply(key, value, { path: key, source: `env ${name}`, textual: true });
  for (const { key, value, flag } of flags.values) apply(key, value, { path: key, source: `flag ${flag}`, textual: true });

  config.dataDir = resolve(cwd, config.dataDir);
  if (config.logFile !== '') config.logFile = resolve(cwd, config.logFile);
  resolveTokenKeys(config, sources, cwd);
  resolveAuthMode(config, sources);
  checkRelations(config, sources);
  return deepFreeze(config);
}

function setField<K extends ScalarKey>(target: MutableConfig, key: K, value: unknown, at: At): void {
  target[key] = SCALAR_FIELDS[key](value, at);
}

function unknownKey(key: string, source: string | undefined): ConfigError {
  const suggestion = closestName(key, [...SCALAR_KEYS, 'defaultNamespace', 'namespaces']);
  return new ConfigError(
    `unknown key ${key.slice(0, 60)}${note(source)}${suggestion ? `; did you mean ${suggestion}?` : ''}`,
    { key, source },
  );
}

/**
 * Settles `authMode` with the older `guestSignIn` and with `tokenUrl`, which
 * imply a mode when `authMode` is not given, and must agree with it when it
 * is. Afterwards `guestSignIn` is exactly `authMode === "guest"`.
 */
function resolveAuthMode(config: MutableConfig, sources: Partial<Record<ScalarKey, string>>): void {
  const given = (key: ScalarKey): boolean => Object.hasOwn(sources, key);
  const where = (key: ScalarKey): string => note(sources[key]);
  if (!given('authMode')) {
    if (config.tokenUrl !== '') config.authMode = 'token';
    else if (given('guestSignIn')) config.authMode = config.guestSignIn ? 'guest' : 'invite';
  }
  if (given('guestSignIn') && config.guestSignIn && config.authMode !== 'guest') {
    const mode = given('authMode') ? `authMode ${config.authMode}${where('authMode')}` : `tokenUrl${where('tokenUrl')} (authMode token)`;
    throw new ConfigError(`guestSignIn true${where('guestSignIn')} contradicts ${mode}; remove guestSignIn, authMode replaces it`, {
      key: 'guestSignIn',
      source: sources.guestSignIn,
    });
  }
  if (given('guestSignIn') && !config.guestSignIn && config.authMode === 'guest') {
    throw new ConfigError(`guestSignIn false${where('guestSignIn')} contradicts authMode guest${where('authMode')}; remove guestSignIn, authMode replaces it`, {
      key: 'guestSignIn',
      source: sources.guestSignIn,
    });
  }
  if (config.authMode === 'token' && config.tokenUrl === '') {
    throw new ConfigError(`authMode token needs tokenUrl, the URL the web app gets tokens from${where('authMode')}`, { key: 'tokenUrl', source: sources.authMode });
  }
  if (config.authMode !== 'token' && config.tokenUrl !== '') {
    throw new ConfigError(`tokenUrl${where('tokenUrl')} is only used with authMode token (got authMode ${config.authMode}${where('authMode')})`, {
      key: 'tokenUrl',
      source: sources.tokenUrl,
    });
  }
  config.guestSignIn = config.authMode === 'guest';
}

/** A namespace that hands decisions to a backend proxy needs that proxy's URL. */
function checkProxyNamespaces(config: Config): void {
  const all: [string, Config['defaultNamespace']][] = [['defaultNamespace', config.defaultNamespace], ...Object.entries(config.namespaces).map(
    ([name, options]): [string, Config['defaultNamespace']] => [`namespaces.${name}`, options],
  )];
  for (const [path, options] of all) {
    if (options.proxySubscribe && config.subscribeProxyUrl === '') {
      throw new ConfigError(`${path}.proxySubscribe needs subscribeProxyUrl, the backend that decides subscribes`, { key: `${path}.proxySubscribe` });
    }
    if (options.proxyPublish && config.publishProxyUrl === '') {
      throw new ConfigError(`${path}.proxyPublish needs publishProxyUrl, the backend that validates publications`, { key: `${path}.proxyPublish` });
    }
  }
}

/** Rejects top-level settings that contradict each other. */
function checkRelations(config: Config, sources: Partial<Record<ScalarKey, string>>): void {
  const shown = (key: ScalarKey): string => `${key} ${String(config[key])}${sources[key] ? ` from ${sources[key]}` : ''}`;
  const fail = (key: ScalarKey, message: string, other: ScalarKey): never => {
    throw new ConfigError(`${key} ${message} (got ${shown(key)}, ${shown(other)})`, { key, source: sources[key] });
  };
  // A client gets pongTimeout to answer each ping; waiting longer than the interval would overlap the next ping.
  if (config.pongTimeout >= config.pingInterval) fail('pongTimeout', 'must be less than pingInterval', 'pingInterval');
  // One maximal message must fit in a connection's queue, or every subscriber of a busy channel is dropped as slow.
  if (config.maxQueuedBytes < config.maxMessageSize) {
    fail('maxQueuedBytes', 'must be at least maxMessageSize', 'maxMessageSize');
  }
  // Nodes on Redis share one chat: with a SQLite file each, every node would have its own history.
  if (config.redisUrl !== '' && config.postgresUrl === '') {
    throw new ConfigError(`redisUrl needs postgresUrl: the nodes of a cluster keep their history in one PostgreSQL${sourceNote('redisUrl')}`, {
      key: 'postgresUrl',
    });
  }
  // Secrets generated into each node's data dir would differ between nodes: a token from one would fail on the next.
  if (config.redisUrl !== '') {
    for (const key of ['tokenSecret', 'apiKey'] as const) {
      if (config[key] === '') {
        throw new ConfigError(`${key} must be set when redisUrl is (every node of a cluster needs the same one)`, { key });
      }
    }
  }
  checkProxyNamespaces(config);
  function sourceNote(key: ScalarKey): string {
    return sources[key] ? ` (redisUrl from ${sources[key]})` : '';
  }
}
