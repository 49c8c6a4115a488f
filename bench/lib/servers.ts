/**
 * The servers under test, each started as its own child process (pinned to
 * its own core when `taskset` exists) with a raised open-files limit, so its
 * CPU time and memory can be read from /proc for that process alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Protocol, ServerId, Target } from './types.js';

/** What the benchmark knows about one server. */
export interface ServerDefinition {
  id: ServerId;
  /** Name in reports. */
  title: string;
  /** One line on what it is. */
  description: string;
  protocol: Protocol;
  /** Which scenarios it can run (e: only with an acknowledged durable publish). */
  durable: boolean;
}

export const SERVERS: Record<ServerId, ServerDefinition> = {
  parley: {
    id: 'parley',
    title: 'Parley (native)',
    description: 'Parley, Centrifuge JSON protocol at /connection/websocket: JWT connect, subscribe, publish',
    protocol: 'centrifuge',
    durable: true,
  },
  'parley-ws': {
    id: 'parley-ws',
    title: 'Parley /ws',
    description: "Parley's seed-compatible /ws endpoint (bridged to #general: every message is stored in the chat database)",
    protocol: 'seed',
    durable: false,
  },
  'seed-ws': {
    id: 'seed-ws',
    title: 'Seed design (Node ws)',
    description: "The seed tutorials' design in Node: a ws server, a Set of clients, JSON.stringify and send per client",
    protocol: 'seed',
    durable: false,
  },
  socketio: {
    id: 'socketio',
    title: 'Socket.IO 4',
    description: 'The canonical Socket.IO 4 broadcast chat (io.emit), WebSocket transport only',
    protocol: 'socketio',
    durable: false,
  },
  go: {
    id: 'go',
    title: 'Seed Go (gorilla)',
    description: "The seed tutorial's Go server: gorilla/websocket, clients map, broadcast channel, handleMessages",
    protocol: 'seed',
    durable: false,
  },
};

/**
 * The namespace of the fan-out scenarios (no history, presence or
 * join/leave), of the durable one, and the crowd's channel without presence
 * (the built-in `room` namespace's options otherwise).
 */
export const PARLEY_CONFIG = {
  namespaces: {
    bench: { historySize: 0, presence: false, joinLeave: false },
    durable: { historySize: 100, presence: false, joinLeave: false },
    crowd: { historySize: 1000, recover: true, presence: false, joinLeave: false },
  },
};

/** Messages per second one `/ws` connection may send to Parley (it allows 20 sustained). */
const PARLEY_WS_PUBLISH_RATE = 18;

export interface StartOptions {
  root: string;
  /** Transpiled bench programs (see transpileBench). */
  jsDir: string;
  /** The built Go server, if any. */
  goBinary?: string;
  /** CPU core to pin the server to, or undefined for no pinning. */
  core: number | undefined;
  /** Parley only: write a V8 CPU profile into this directory on exit. */
  cpuProfileDir?: string;
}

export class RunningServer {
  private readonly output: string[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;

  constructor(
    readonly definition: ServerDefinition,
    readonly child: ChildProcess,
    readonly target: Target,
    private readonly cleanup: () => void,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 40) this.output.splice(0, this.output.length - 40);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exit = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** The server's last output lines (for error reports). */
  get lastOutput(): string {
    return this.output.slice(-15).join('\n');
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exit;
      clearTimeout(timer);
    }
    this.cleanup();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `argv` through bash, which raises the soft open-files limit to the
 * hard one and then execs (so the child's pid is the server's own), pinned
 * to `core` with taskset when given.
 */
export function spawnPinned(argv: string[], core: number | undefined, options: { cwd: string; env?: NodeJS.ProcessEnv; ipc?: boolean }): ChildProcess {
  const command = core === undefined ? argv : ['taskset', '-c', String(core), ...argv];
  return spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bench', ...command], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
}

export async function startServer(id: ServerId, options: StartOptions): Promise<RunningServer> {
  const definition = SERVERS[id];
  const port = await freePort();
  const host = '127.0.0.1';
  let argv: string[];
  let cleanup = () => {};
  let readyPath: string | undefined;
  const target: Target = {
    id,
    protocol: definition.protocol,
    url: '',
    pid: 0,
    maxPublishRatePerConnection: null,
  };
  switch (id) {
    case 'parley':
    case 'parley-ws': {
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
      cleanup = () => rmSync(dataDir, { recursive: true, force: true });
      const configPath = join(dataDir, 'parley.config.json');
      writeFileSync(configPath, JSON.stringify(PARLEY_CONFIG, null, 2));
      const tokenSecret = randomBytes(32).toString('hex');
      const apiKey = randomBytes(16).toString('hex');
      argv = [
        process.execPath,
        ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : []),
        join(options.root, 'bin', 'parley.js'),
        'serve',
        '--config', configPath,
        '--host', host,
        '--port', String(port),
        '--data-dir', dataDir,
        '--log-level', 'warn',
        '--token-secret', tokenSecret,
        '--api-key', apiKey,
        '--command-rate-limit', '1000000',
        '--command-burst', '1000000',
        '--max-queued-bytes', String(16 * 1024 * 1024),
        '--shutdown-timeout', '2',
      ];
      readyPath = '/ready';
      if (id === 'parley') {
        Object.assign(target, {
          url: `ws://${host}:${port}/connection/websocket`,
          tokenSecret,
          channel: 'bench:room',
          durableNamespace: 'durable',
          crowdChannels: { presence: 'room:crowd', plain: 'crowd:room' },
          apiUrl: `http://${host}:${port}/api`,
          apiKey,
        });
      } else {
        Object.assign(target, { url: `ws://${host}:${port}/ws`, maxPublishRatePerConnection: PARLEY_WS_PUBLISH_RATE });
      }
      break;
    }
    case 'seed-ws':
      argv = [process.execPath, join(options.jsDir, 'servers', 'seed-ws.js'), '--port', String(port)];
      target.url = `ws://${host}:${port}/ws`;
      break;
    case 'socketio':
      argv = [process.execPath, join(options.jsDir, 'servers', 'socketio.js'), '--port', String(port)];
      target.url = `ws://${host}:${port}/socket.io/?EIO=4&transport=websocket`;
      break;
    case 'go':
      if (!options.goBinary) throw new Error('the Go server was not built');
      argv = [options.goBinary, '-addr', `${host}:${port}`];
      target.url = `ws://${host}:${port}/ws`;
      break;
  }
  const child = spawnPinned(argv, options.core, { cwd: options.root, env: { ...process.env, NODE_ENV: 'production' } });
  target.pid = child.pid ?? 0;
  const server = new RunningServer(definition, child, target, cleanup);
  await waitReady(server, host, port, readyPath);
  return server;
}

async function waitReady(server: RunningServer, host: string, port: number, readyPath: string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.hasExited) throw new Error(`${server.definition.id} exited during start-up:\n${server.lastOutput}`);
    if (readyPath ? await httpOk(`http://${host}:${port}${readyPath}`) : await tcpOpen(host, port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await server.stop();
  throw new Error(`${server.definition.id} did not become ready in 30 s:\n${server.lastOutput}`);
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
