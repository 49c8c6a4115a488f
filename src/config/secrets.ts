/**
 * Secrets the operator did not provide are generated once into the data dir
 * and reused on every start, so tokens and API clients keep working across
 * restarts without any setup.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { SCALAR_FIELDS } from './fields.js';
import { deepFreeze } from './freeze.js';
import type { Config } from './types.js';

/** The logging `ensureSecrets` needs (a pino logger fits). */
export interface SecretsLog {
  info(obj: object, msg: string): void;
}

const SECRETS = [
  { key: 'tokenSecret', file: 'token-secret', label: 'token secret' },
  { key: 'apiKey', file: 'api-key', label: 'API key' },
] as const;

type SecretKey = (typeof SECRETS)[number]['key'];

/** Random bytes in a generated secret: 256 bits, the HS256 key size. */
const SECRET_BYTES = 32;

/**
 * Fills in `tokenSecret` and `apiKey` when they are empty: from
 * `<dataDir>/token-secret` and `<dataDir>/api-key` if those exist, otherwise
 * by generating 32 random bytes (base64url) and writing them there with mode
 * 0600, creating the data dir if needed. Several processes starting at once
 * on the same data dir end up with the same secret: whichever creates the
 * file first wins and the others read it.
 *
 * Logs the path of each generated file, never a secret.
 *
 * @returns a new deeply frozen config; secrets that were given are kept as they are.
 * @throws ConfigError when a secret file cannot be read or written, or holds a secret too short to use.
 */
export async function ensureSecrets(config: Config, log: SecretsLog): Promise<Config> {
  const filled: { -readonly [K in SecretKey]: string } = { tokenSecret: config.tokenSecret, apiKey: config.apiKey };
  const dataDir = resolve(config.dataDir);
  let dirReady = false;

  for (const { key, file, label } of SECRETS) {
    if (filled[key] !== '') continue;
    if (!dirReady) {
      await attempt(dataDir, 'create', () => mkdir(dataDir, { recursive: true, mode: 0o700 }));
      dirReady = true;
    }
    const path = join(dataDir, file);
    const existing = await readSecret(key, path);
    if (existing !== undefined) {
      filled[key] = existing;
      continue;
    }
    const generated = randomBytes(SECRET_BYTES).toString('base64url');
    if (await createExclusive(path, generated)) {
      filled[key] = generated;
      log.info({ path }, `generated ${label}`);
      continue;
    }
    // Another process created the file between our read and our create.
    const raced = await readSecret(key, path);
    if (raced === undefined) throw new ConfigError(`${path} vanished while being created`, { key });
    filled[key] = raced;
  }
  return deepFreeze({ ...config, ...filled });
}

/** The trimmed secret in `path`, or `undefined` if there is no such file. */
async function readSecret(key: SecretKey, path: string): Promise<string | undefined> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${path} (${errorCode(error)})`, { key });
  }
  // Files written by hand usually end with a newline that is not part of the secret.
  const secret = content.trim();
  if (secret === '') throw new ConfigError(`${path} is empty; delete it to generate a new one`, { key });
  SCALAR_FIELDS[key](secret, { path: key, source: `file ${path}`, textual: true });
  return secret;
}

/**
 * Writes `secret` to `path` only if `path` does not exist yet.
 * @returns false if another process created `path` first.
 */
async function createExclusive(path: string, secret: string): Promise<boolean> {
  // Written in full to a private temporary file, then hard-linked into place:
  // the link fails if `path` exists, and a concurrent reader never sees a half-written file.
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await attempt(path, 'write', async () => {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.chmod(0o600); // whatever the umask
      await handle.writeFile(`${secret}\n`);
      await handle.sync(); // a crash must not leave an empty secret file behind
    } finally {
      await handle.close();
    }
  });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return false;
    // Some filesystems (certain network and container mounts) have no hard links.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      return createDirectly(path, secret);
    }
    throw new ConfigError(`cannot write ${path} (${code})`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Exclusive create without the temporary file, for filesystems without hard links. */
async function createDirectly(path: string, secret: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(`${secret}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw new ConfigError(`cannot write ${path} (${errorCode(error)})`);
  }
}

/** Runs a filesystem step, turning its failure into a one-line ConfigError naming `path`. */
async function attempt(path: string, action: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (error) {
    throw new ConfigError(`cannot ${action} ${path} (${errorCode(error)})`, { key: 'dataDir' });
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
}
