/**
 * A Parley cluster for tests: N nodes as separate processes (so one can be
 * killed with SIGKILL), on port 0, sharing one Redis and one fresh
 * PostgreSQL database, behind a TCP "load balancer" that hands each new
 * connection to the next live node in turn.
 */
import { startChildServer, type ChildServer } from './child-server.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ClusterNode {
  readonly index: number;
  readonly port: number;
  /** ws://…/connection/websocket of this node directly. */
  readonly wsUrl: string;
  /** http://127.0.0.1:port */
  readonly httpUrl: string;
  /** Whether the balancer sends connections to it. */
  readonly live: boolean;
  /** SIGKILL: the node dies without any goodbye; the balancer stops choosing it. */
  kill(): Promise<void>;
  /** With `proxied`: the TCP proxies between this node and Redis, and PostgreSQL, to cut it off from either. */
  readonly redisProxy?: TcpProxy;
  readonly postgresProxy?: TcpProxy;
  /** Graceful shutdown (SIGTERM); the balancer stops choosing it first. */
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  nodes: number;
  /** Redis of the cluster (a private one when the test restarts it). */
  redisUrl: string;
  /** PostgreSQL of the cluster; default: a fresh database on the machine's server, dropped by {@link TestCluster.close}. */
  postgresUrl?: string;
  /** Extra flags for every node. */
  flags?: string[];
  /** Contents of every node's parley.config.json. */
  file?: Record<string, unknown>;
}

export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly proxies: TcpProxy[] = [];
  private next = 0;

  private constructor(
    private readonly options: TestClusterOptions & { postgresUrl: string },
    readonly balancer: TcpProxy,
    private readonly database: TestDatabase | undefined,
  ) {}

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const database = options.postgresUrl ? undefined : await createTestDatabase();
    let cluster: TestCluster | undefined;
    const balancer = await TcpProxy.start(() => (cluster as TestCluster).choose());
    cluster = new TestCluster({ ...options, postgresUrl: options.postgresUrl ?? (database as TestDatabase).url }, balancer, database);
    try {
      // One after another: the first runs the migrations; the others' start then checks them (both paths are tested elsewhere).
      for (let i = 0; i < options.nodes; i++) await cluster.addNode();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** ws://…/connection/websocket through the balancer. */
  get wsUrl(): string {
    return this.balancer.wsUrl;
  }

  /**
   * Starts one more node and puts it in the balancer's rotation. A
   * `proxied` node reaches Redis and PostgreSQL through TCP proxies of its
   * own, so a test can cut it off from either service alone.
   */
  async addNode(options: { proxied?: boolean } = {}): Promise<ClusterNode> {
    let redisUrl = this.options.redisUrl;
    let postgresUrl = this.options.postgresUrl;
    let proxies: { redisProxy: TcpProxy; postgresProxy: TcpProxy } | undefined;
    if (options.proxied) {
      proxies = { redisProxy: await TcpProxy.start(portOf(redisUrl, 6379)), postgresProxy: await TcpProxy.start(portOf(postgresUrl, 5432)) };
      this.proxies.push(proxies.redisProxy, proxies.postgresProxy);
      redisUrl = throughPort(redisUrl, proxies.redisProxy.port);
      postgresUrl = throughPort(postgresUrl, proxies.postgresProxy.port);
    }
    const child = await startChildServer({
      flags: ['--redis-url', redisUrl, '--postgres-url', postgresUrl, ...(this.options.flags ?? [])],
      ...(this.options.file ? { file: this.options.file } : {}),
    });
    const node = this.wrap(child, this.nodes.length, proxies);
    this.nodes.push(node);
    return node;
  }

  /** Nodes the balancer sends connections to. */
  get liveNodes(): ClusterNode[] {
    return this.nodes.filter((node) => node.live);
  }

  async close(): Promise<void> {
    await this.balancer.close();
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    await Promise.allSettled(this.proxies.map((proxy) => proxy.close()));
    await this.database?.drop();
  }

  /** The next live node's port, or none (the connection is refused) when every node is down. */
  private choose(): number | undefined {
    const live = this.liveNodes;
    return live.length === 0 ? undefined : (live[this.next++ % live.length] as ClusterNode).port;
  }

  private wrap(child: ChildServer, index: number, proxies?: { redisProxy: TcpProxy; postgresProxy: TcpProxy }): ClusterNode {
    let live = true;
    return {
      ...proxies,
      index,
      port: child.port,
      wsUrl: child.wsUrl,
      httpUrl: `http://127.0.0.1:${child.port}`,
      get live() {
        return live && !child.exited;
      },
      async kill() {
        live = false;
        await child.kill();
      },
      async stop() {
        live = false;
        await child.stop();
      },
    };
  }
}

/** The port of a service URL (the protocol's default when it has none). */
function portOf(url: string, defaultPort: number): number {
  const { port } = new URL(url);
  return port === '' ? defaultPort : Number(port);
}

/** The same URL on 127.0.0.1 at another port. */
function throughPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}
