/**
 * A `redis-server` of the test's own, on a free port, for tests that must
 * stop or restart Redis (the shared service is never touched). It keeps
 * nothing on disk, so a restart comes back empty, like the machine's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function launch(port: number, timeoutMs = 5000): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onExit = (code: number | null) => fail(new Error(`redis-server exited with ${code}: ${output}`));
    const timer = setTimeout(() => fail(new Error(`redis-server did not start on port ${port}: ${output}`)), timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', fail);
      child.stdout?.off('data', onOutput);
    };
    function fail(error: Error) {
      settle();
      child.kill('SIGKILL');
      reject(error);
    }
    function onOutput(chunk: Buffer) {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      settle();
      // Its output is no longer read; let it drain so the server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve(child);
    }
    child.once('error', fail);
    child.once('exit', onExit);
    child.stdout?.on('data', onOutput);
  });
}

/** Starts a private Redis and resolves once it accepts connections. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    async start() {
      if (child) return;
      child = await launch(port);
    },
  };
}
