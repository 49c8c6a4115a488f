/**
 * A tiny TCP proxy in front of a test server, so a test can break a client's
 * connection from outside (as a network failure would) and keep it from
 * coming back until it chooses to.
 */
import net from 'node:net';

export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private blocked = false;
  /** Connections accepted and forwarded so far. */
  accepted = 0;
  /** Connections refused while blocked. */
  refused = 0;

  private constructor(
    private readonly target: number | (() => number | undefined),
    private readonly targetHost: string,
  ) {
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  /**
   * Starts a proxy on a free port of 127.0.0.1 forwarding to `target`: a
   * port, or a function asked for the port of each new connection (a load
   * balancer choosing a node; `undefined` refuses the connection).
   */
  static async start(target: number | (() => number | undefined), targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, targetHost);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The proxied WebSocket endpoint. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/connection/websocket`;
  }

  /** Connections currently forwarded. */
  get open(): number {
    return this.pairs.size;
  }

  /** Destroys every forwarded connection, both sides, without a close handshake. */
  cut(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** New connections are dropped at once until {@link unblock}. */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.blocked) {
      this.refused++;
      client.destroy();
      return;
    }
    const port = typeof this.target === 'number' ? this.target : this.target();
    if (port === undefined) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(port, this.targetHost);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const teardown = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
