import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { rawDataText } from '../transport/raw-data.js';
import { WebSocketTransport, type WebSocketTransportOptions } from '../transport/websocket-transport.js';
import { Session, type SessionContext } from './session.js';

/**
 * Binds each accepted WebSocket to a new protocol session: messages in,
 * transport out, close and errors to the session's cleanup.
 */
export function webSocketSessions(context: SessionContext): (socket: WebSocket, request: IncomingMessage) => Session {
  // One options object for every connection: per-connection copies cost memory for nothing.
  const transportOptions: WebSocketTransportOptions = {
    maxQueuedBytes: context.node.config.maxQueuedBytes,
    onSlow: (remote) => context.logger.info({ remote }, 'slow client dropped'),
  };
  return (socket, request) => {
    // Only the address is kept: closures that held the request would keep its headers alive for the connection's life.
    // The backend proxy copies the headers it forwards from the request now; the request itself is not kept.
    const session = new Session(new WebSocketTransport(socket, transportOptions), context, {
      remoteAddress: request.socket.remoteAddress,
      openingRequest: context.proxy && request,
    });
    socket.on('message', (data: RawData) => session.receive(rawDataText(data)));
    socket.on('close', () => session.closed());
    socket.on('error', (error: Error) => {
      // Protocol violations by the peer (oversized or invalid frames): ws closes the socket itself.
      context.logger.debug({ err: error.message, client: session.clientId }, 'websocket error');
    });
    return session;
  };
}
