import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isOriginAllowed } from './origin.js';

export type WebSocketHandler = (socket: WebSocket, request: IncomingMessage) => void;

export interface UpgradeRouterOptions {
  /** Largest message accepted; larger ones close the socket with 1009. */
  maxPayload: number;
  allowedOrigins: readonly string[];
  /** Called for refused upgrades (bad origin, unknown path), for logging. */
  onRefused?: (reason: string, request: IncomingMessage) => void;
}

interface Route {
  handler: WebSocketHandler;
  /** Subprotocols the endpoint speaks besides its default (no subprotocol), most preferred first. */
  subprotocols: readonly string[];
}

/** The path of an upgrade request, without its query. */
function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?', 1)[0] as string;
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * Routes HTTP upgrade requests to WebSocket endpoints by path, after the
 * origin check. One `ws` server (without its own HTTP server) performs the
 * handshakes for every endpoint.
 */
export class UpgradeRouter {
  private readonly routes = new Map<string, Route>();
  private readonly wss: WebSocketServer;
  private accepting = true;
  private readonly open = new Set<WebSocket>();

  constructor(private readonly options: UpgradeRouterOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      // Compression costs CPU per message per subscriber and defeats encoding
      // a publication once for all subscribers.
      perMessageDeflate: false,
      clientTracking: false,
      // The endpoint's first subprotocol the client offers; none (the endpoint's default) when it offers only others.
      handleProtocols: (offered, request) => this.routes.get(pathOf(request))?.subprotocols.find((name) => offered.has(name)) ?? false,
    });
  }

  /**
   * Serves WebSocket upgrades at `path`. The handler reads the negotiated
   * subprotocol from `socket.protocol`: one of `subprotocols`, or `""` when
   * the client offered none of them.
   */
  route(path: string, handler: WebSocketHandler, subprotocols: readonly string[] = []): void {
    this.routes.set(path, { handler, subprotocols });
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.handle(request, socket, head));
  }

  /** Refuses further upgrades (used on shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  private handle(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    const path = pathOf(request);
    const route = this.routes.get(path);
    if (!route) return this.refuse(socket, request, 404, 'Not Found', `no WebSocket endpoint at ${path}`);
    if (!this.accepting) return this.refuse(socket, request, 503, 'Service Unavailable', 'shutting down');
    if (!isOriginAllowed(request.headers.origin, request.headers.host, this.options.allowedOrigins)) {
      return this.refuse(socket, request, 403, 'Forbidden', 'origin not allowed');
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, route.handler));
  }

  // Not inline in `handle`: a closure made there would share its scope, and
  // with it the upgrade request (headers and all), for the socket's lifetime.
  private accept(ws: WebSocket, request: IncomingMessage, handler: WebSocketHandler): void {
    this.open.add(ws);
    ws.once('close', () => this.open.delete(ws));
    handler(ws, request);
  }

  /** Waits up to `timeoutMs` for every accepted socket to close, then cuts the rest. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const ws of this.open) ws.terminate();
  }

  private refuse(socket: Duplex, request: IncomingMessage, status: number, text: string, reason: string): void {
    this.options.onRefused?.(reason, request);
    const body = `${reason}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}
