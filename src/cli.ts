/**
 * The `parley` command: `serve` (the default) runs the server; `token` prints
 * a signed connection or subscription JWT made with the configured secret;
 * `migrate` and `import` prepare a cluster's PostgreSQL database; `admin`
 * creates accounts and resets passwords.
 */
import { adminCommand } from './admin/account-commands.js';
import { importCommand, migrateCommand } from './admin/admin-commands.js';
import { splitFlags, UsageError } from './admin/command-flags.js';
import { signOwnToken } from './auth/jwt.js';
import { PermissionSet } from './auth/permissions.js';
import { TokenError } from './auth/token-error.js';
import { parseDuration } from './config/duration.js';
import { ConfigError, loadConfig } from './config/schema.js';
import { ensureSecrets } from './config/secrets.js';
import { createLogger } from './log/logger.js';
import { startServer, VERSION, type ParleyServer } from './server.js';

const USAGE = `Usage:
  parley [serve] [options]     run the chat server
  parley token --user ID [--name NAME] [--ttl 1h] [--permissions JSON] [--channel CH] [options]
                               print a signed connection token (a subscription token with --channel)
  parley migrate --postgres-url URL
                               create or update the PostgreSQL schema (nodes also do it when they start)
  parley import [--from DIR] [--force] --postgres-url URL
                               copy a single-node data dir (default: the configured one) into PostgreSQL;
                               refuses a database that holds data unless --force (which replaces it)
  parley admin create USER [--admin] [--display-name NAME] [--password-stdin] [options]
                               create an account (the first one is the admin); asks for the password twice,
                               or reads one line from standard input when it is not a terminal
  parley admin reset-password USER [--password-stdin] [options]
                               set a new password and sign the account out everywhere
  parley --help | --version

Options (each also settable in parley.config.json or the environment; see README):
  --config PATH  --host HOST  --port N  --data-dir DIR  --log-level LEVEL  --log-file PATH
  --log-format auto|pretty|json  --token-secret S  --api-key K  --allowed-origins A,B
  --max-message-size N  --allow-anonymous  --auth-mode open|invite|guest|token  --postgres-url URL ...`;

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    if (first === 'token') return await tokenCommand(rest);
    if (first === 'serve') return await serveCommand(rest);
    if (first === 'migrate') return await migrateCommand(rest);
    if (first === 'import') return await importCommand(rest);
    if (first === 'admin') return await adminCommand(rest);
    if (first === undefined || first.startsWith('-')) return await serveCommand(argv);
    throw new UsageError(`unknown command "${first}"`);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TokenError) {
      process.stderr.write(`parley: ${error.message}\n`);
      return 1;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`parley: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

async function serveCommand(flags: readonly string[]): Promise<number> {
  const loaded = await loadConfig({ argv: flags });
  const logger = createLogger(loaded);
  // Listening for signals before anything is logged: a SIGTERM that arrives while the server starts
  // (or just after it logs that it listens) must shut it down gracefully, not kill the process outright.
  let stopping: NodeJS.Signals | undefined;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  let server: ParleyServer | undefined;
  const shutDown = (running: ParleyServer) =>
    running.close().then(stopped, (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      stopped();
    });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = signal;
    logger.info({ signal }, 'shutting down');
    if (server) void shutDown(server);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const config = await ensureSecrets(loaded, logger);
  server = await startServer(config, logger);
  if (stopping) void shutDown(server);
  await done;
  logger.flush();
  return 0;
}

/** Flags that belong to `parley token`; all others are configuration flags. */
const TOKEN_FLAGS = ['--user', '--name', '--ttl', '--permissions', '--channel'];

async function tokenCommand(argv: readonly string[]): Promise<number> {
  const split = splitFlags(argv, { values: TOKEN_FLAGS });
  const own = split.own as Map<string, string>;
  const configFlags = split.config;
  const user = own.get('--user');
  if (user === undefined) throw new UsageError('--user is required');

  const loaded = await loadConfig({ argv: configFlags });
  // Secrets generated now are the ones the server will use; log to stderr so stdout is only the token.
  const config = await ensureSecrets(loaded, { info: (_obj, msg) => process.stderr.write(`parley: ${msg}\n`) });

  const claims: Record<string, unknown> = { sub: user };
  const ttl = parseTtl(own.get('--ttl') ?? '1h');
  if (ttl > 0) claims.exp = Math.floor(Date.now() / 1000 + ttl);
  const name = own.get('--name');
  if (name !== undefined) claims.info = { name };
  const channel = own.get('--channel');
  if (channel !== undefined) {
    claims.channel = channel;
  }
  const permissions = own.get('--permissions');
  if (permissions !== undefined) {
    if (channel !== undefined) throw new UsageError('--permissions applies to connection tokens, not with --channel');
    let parsed: unknown;
    try {
      parsed = JSON.parse(permissions);
    } catch {
      throw new UsageError('--permissions must be JSON, e.g. \'{"^room:.*$":{"subscribe":true}}\'');
    }
    PermissionSet.fromClaim(parsed);
    claims.permissions = parsed;
  }
  process.stdout.write(`${signOwnToken(claims, config)}\n`);
  return 0;
}

function parseTtl(text: string): number {
  try {
    return parseDuration(/^\d+(\.\d+)?$/.test(text) ? Number(text) : text);
  } catch {
    throw new UsageError(`--ttl must be a duration such as 30m, 1h or 7d (got "${text}")`);
  }
}
