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

  /** Starts one more node and puts it in the balancer's rotation. */
  async addNode(): Promise<ClusterNode> {
    const child = await startChildServer({
      flags: ['--redis-url', this.options.redisUrl, '--postgres-url', this.options.postgresUrl, ...(this.options.flags ?? [])],
      ...(this.options.file ? { file: this.options.file } : {}),
    });
    const node = this.wrap(child, this.nodes.length);
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
    await this.database?.drop();
  }

  /** The next live node's port, or none (the connection is refused) when every node is down. */
  private choose(): number | undefined {
    const live = this.liveNodes;
    return live.length === 0 ? undefined : (live[this.next++ % live.length] as ClusterNode).port;
  }

  private wrap(child: ChildServer, index: number): ClusterNode {
    let live = true;
    return {
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
