/**
 * Starting real servers for tests: port 0, a fresh data dir, a known secret,
 * silent logs. Tests get the URL, the secret for minting tokens, and a way to
 * restart on the same data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/log/logger.js';
import { logSink } from './log-capture.js';
import { startServer, type ParleyServer, type ServerParts } from '../../src/server.js';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export interface TestServer {
  server: ParleyServer;
  config: Config;
  dataDir: string;
  /** ws://…/connection/websocket */
  wsUrl: string;
  /** Captured log lines (JSON). */
  logs: string[];
  /** Stops the server (graceful) and starts a new one on the same data dir and port. */
  restart(): Promise<TestServer>;
  /** Stops the server and removes the data dir. */
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra flags, e.g. ['--max-message-size', '2048']. */
  flags?: string[];
  /** Contents of a parley.config.json. */
  file?: Record<string, unknown>;
  parts?: ServerParts;
  dataDir?: string;
  port?: number;
}

/** Keys that choose who may join; a test that sets none of them runs in `authMode` `guest`. */
const AUTH_KEYS = ['authMode', 'guestSignIn', 'tokenUrl'];
const AUTH_FLAGS = ['--auth-mode', '--guest-sign-in', '--no-guest-sign-in', '--token-url'];

/**
 * Guest sign-in unless the test chooses: most tests sign in as guests, and
 * the accounts tests say `open` or `invite` themselves.
 */
function authModeFlags(options: TestServerOptions): string[] {
  const chosen =
    AUTH_KEYS.some((key) => options.file && Object.hasOwn(options.file, key)) ||
    (options.flags ?? []).some((flag) => AUTH_FLAGS.includes(flag.split('=', 1)[0]!));
  return chosen ? [] : ['--auth-mode', 'guest'];
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  let configPath: string | undefined;
  if (options.file) {
    configPath = join(dataDir, 'parley.config.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(configPath, JSON.stringify(options.file));
  }
  const config = await loadConfig({
    argv: [
      '--host', '127.0.0.1',
      '--port', String(options.port ?? 0),
      '--data-dir', dataDir,
      '--token-secret', TEST_SECRET,
      '--api-key', TEST_API_KEY,
      '--log-level', process.env.PARLEY_TEST_LOG_LEVEL ?? 'debug',
      ...authModeFlags(options),
      ...(options.flags ?? []),
    ],
    env: {},
    cwd: dataDir,
    configPath,
  });
  const { stream, lines: logs } = logSink();
  const logger = createLogger(config, { destination: stream });
  const server = await startServer(config, logger, options.parts);
  const handle: TestServer = {
    server,
    config,
    dataDir,
    wsUrl: `ws://127.0.0.1:${server.port}/connection/websocket`,
    logs,
    async restart() {
      await server.close();
      return startTestServer({ ...options, dataDir, port: server.port });
    },
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Mints a connection token with an independent JWT implementation. */
export async function mintToken(claims: Record<string, unknown>, options: { expiresIn?: string | number; secret?: string } = {}): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}
