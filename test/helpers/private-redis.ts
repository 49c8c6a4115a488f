/**
 * A Redis server of a test's own, on a free port, for tests that must stop
 * and restart Redis (the machine's shared one is never stopped). Nothing is
 * persisted: no RDB snapshots, no append-only file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export class PrivateRedis {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts `redis-server` on a free port of 127.0.0.1; resolves once it accepts connections. */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Kills the server at once (SIGKILL, as a crash would); resolves once it exited. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the server again on the same port (after {@link kill}); resolves once it accepts connections. */
  async restart(timeoutMs = 10_000): Promise<void> {
    if (this.process) throw new Error('private redis is already running');
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => fail(new Error(`redis-server did not start in ${timeoutMs} ms: ${output.slice(-500)}`)), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    });
  }
}

/** A TCP port nothing listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
