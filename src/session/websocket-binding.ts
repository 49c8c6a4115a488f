import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { WebSocketTransport } from '../transport/websocket-transport.js';
import { Session, type SessionContext } from './session.js';

/**
 * Binds an accepted WebSocket to a new protocol session: messages in,
 * transport out, close and errors to the session's cleanup.
 */
export function bindWebSocketSession(socket: WebSocket, request: IncomingMessage, context: SessionContext): Session {
  // Only the address is kept: closures that held the request would keep its headers alive for the connection's life.
  const remoteAddress = request.socket.remoteAddress;
  const transport = new WebSocketTransport(socket, {
    maxQueuedBytes: context.node.config.maxQueuedBytes,
    onSlow: () => context.logger.info({ remote: remoteAddress }, 'slow client dropped'),
  });
  const session = new Session(transport, context, { remoteAddress });
  socket.on('message', (data: RawData) => session.receive(rawToString(data)));
  socket.on('close', () => session.closed());
  socket.on('error', (error: Error) => {
    // Protocol violations by the peer (oversized or invalid frames): ws closes the socket itself.
    context.logger.debug({ err: error.message, client: session.clientId }, 'websocket error');
  });
  return session;
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
