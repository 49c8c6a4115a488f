/**
 * A redis-server of the test's own, on a free port, for tests that restart
 * Redis (the shared service is never stopped). It keeps nothing on disk, so
 * a restart empties it, as a restart of the machine's service does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import { nextEvent, waitFor } from './wait.js';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await nextEvent(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A client that reconnects on its own (as a server's clients do), with errors swallowed while Redis is down. */
export async function reconnectingClient(url: string) {
  const client = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: () => 50 } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export interface PrivateRedis {
  url: string;
  /** Stops the server and starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Starts it again after `stop`, empty. */
  start(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(
      async () => {
        const probe = createClient({ url, socket: { reconnectStrategy: false } });
        probe.on('error', () => {});
        try {
          await probe.connect();
          await probe.close();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'private redis-server to accept connections' },
    );
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = nextEvent(child, 'exit', 10_000);
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
    start,
  };
}
