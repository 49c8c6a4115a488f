/**
 * A test server in a child process, for tests that must notice when the
 * server stalls its event loop: an in-process server would stall the test's
 * own timers with it, so the test could only hang instead of failing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  wsUrl: string;
  port: number;
  /** Whether the child exited on its own (it should not). */
  readonly exited: boolean;
  /** Stops the child (SIGTERM, then SIGKILL after `graceMs`) and removes its data dir. */
  stop(graceMs?: number): Promise<void>;
  /** Kills the child with SIGKILL (no shutdown of any kind) and waits for it to exit. */
  kill(): Promise<void>;
}

export interface ChildServerOptions {
  flags?: string[];
  file?: Record<string, unknown>;
  /** How long the child may take to start. @default 20000 */
  startTimeoutMs?: number;
}

const MAIN = fileURLToPath(new URL('./child-server-main.ts', import.meta.url));

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-child-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      PARLEY_TEST_LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? 'info',
      PARLEY_CHILD_OPTIONS: JSON.stringify({ flags: options.flags, file: options.file, dataDir }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('child server did not start in time')), options.startTimeoutMs ?? 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /READY (\d+)/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error('child server exited before it was ready'));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout?.resume();
  return {
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
    wsUrl: `ws://127.0.0.1:${port}/connection/websocket`,
    port,
    get exited() {
      return exited;
    },
    async stop(graceMs = 3000) {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
