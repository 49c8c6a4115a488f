/**
 * A Redis server of a test's own, on a free port, that the test may stop,
 * restart or kill at will (the machine's shared Redis is never touched).
 * Like the machine's, it keeps nothing on disk: a restart empties it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { freePort } from './free-port.js';

export class PrivateRedis {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts a server on a free port and waits until it answers. */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.startProcess();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the server again on the same port, empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  /** Starts the server again after {@link kill} (an outage as long as the test made it), empty. */
  async resume(): Promise<void> {
    if (!this.process) await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  private async startProcess(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: 'ignore',
    });
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = createClient({ url: this.url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
        await client.close();
        return;
      } catch {
        client.destroy();
        if (this.process !== child) throw new Error(`redis-server on port ${this.port} exited at start`);
        if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start in time`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}
