/**
 * A plain HTTP reverse proxy in front of a test server that does not carry
 * WebSockets: like a proxy or a corporate network that drops the `Upgrade`
 * header, it forwards an upgrade request as an ordinary request, so the
 * WebSocket handshake fails and a client must fall back to HTTP. Responses
 * are streamed through as they come (no buffering), as a proxy set up for
 * streaming does.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Headers that belong to one hop (RFC 9110 §7.6.1) and to the WebSocket handshake: never forwarded. */
const DROPPED = ['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol'];

export class UpgradeStrippingProxy {
  /** Requests that came with `Upgrade` and were forwarded without it. */
  strippedUpgrades = 0;
  /** Paths of every request forwarded, in order. */
  readonly paths: string[] = [];
  private readonly sockets = new Set<Socket | Duplex>();

  private constructor(
    private readonly server: http.Server,
    private readonly targetPort: number,
    private readonly refused: ReadonlySet<string>,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: http.ServerResponse) => {
      if (this.refused.has((request.url ?? '/').split('?', 1)[0]!)) {
        this.paths.push(request.url ?? '/');
        request.resume();
        response.writeHead(502).end();
        return;
      }
      this.forward(request, (upstream) => {
        response.writeHead(upstream.statusCode ?? 502, headersOf(upstream.headers));
        response.flushHeaders();
        upstream.pipe(response);
      }, () => {
        if (!response.headersSent) response.writeHead(502).end();
        else response.destroy();
      });
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      this.strippedUpgrades++;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.forward(request, (upstream) => {
        const head = [`HTTP/1.1 ${upstream.statusCode} ${upstream.statusMessage}`, 'Connection: close'];
        for (const [name, value] of Object.entries(headersOf(upstream.headers))) head.push(`${name}: ${String(value)}`);
        socket.write(`${head.join('\r\n')}\r\n\r\n`);
        upstream.pipe(socket);
      }, () => socket.destroy());
    });
  }

  /**
   * Starts a proxy on a free port of 127.0.0.1 forwarding to `targetPort`
   * there; requests for the `refused` paths get 502 (as from a proxy that
   * cannot stream them).
   */
  static async start(targetPort: number, refused: readonly string[] = []): Promise<UpgradeStrippingProxy> {
    const server = http.createServer();
    const proxy = new UpgradeStrippingProxy(server, targetPort, new Set(refused));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(request: IncomingMessage, onResponse: (upstream: IncomingMessage) => void, onError: () => void): void {
    this.paths.push(request.url ?? '/');
    const upstream = http.request(
      { host: '127.0.0.1', port: this.targetPort, method: request.method, path: request.url, headers: headersOf(request.headers) },
      onResponse,
    );
    upstream.on('error', onError);
    request.pipe(upstream);
  }
}

function headersOf(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept = { ...headers };
  for (const name of DROPPED) delete kept[name];
  return kept;
}
