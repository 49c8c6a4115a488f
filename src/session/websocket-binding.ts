import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { Codec } from '../protocol/codec.js';
import { jsonCodec } from '../protocol/json-codec.js';
import { protobufCodec } from '../protocol/protobuf-codec.js';
import { rawDataBytes } from '../transport/raw-data.js';
import { WebSocketTransport, type WebSocketTransportOptions } from '../transport/websocket-transport.js';
import { Session, type SessionContext } from './session.js';

/** The WebSocket subprotocol of the protocol's Protobuf encoding; without a subprotocol a connection speaks JSON. */
export const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';

/** The subprotocols the protocol endpoint negotiates (see `UpgradeRouter.route`). */
export const SESSION_SUBPROTOCOLS: readonly string[] = [PROTOBUF_SUBPROTOCOL];

function codecOf(socket: WebSocket): Codec {
  return socket.protocol === PROTOBUF_SUBPROTOCOL ? protobufCodec : jsonCodec;
}

/**
 * Binds each accepted WebSocket to a new protocol session, in the encoding
 * its subprotocol names: messages in, transport out, close and errors to
 * the session's cleanup.
 */
export function webSocketSessions(context: SessionContext): (socket: WebSocket, request: IncomingMessage) => Session {
  // One options object for every connection: per-connection copies cost memory for nothing.
  const transportOptions: WebSocketTransportOptions = {
    maxQueuedBytes: context.node.config.maxQueuedBytes,
    onSlow: (remote) => context.logger.info({ remote }, 'slow client dropped'),
  };
  return (socket, request) => {
    const codec = codecOf(socket);
    // Only the address is kept: closures that held the request would keep its headers alive for the connection's life.
    // The backend proxy copies the headers it forwards from the request now; the request itself is not kept.
    const session = new Session(new WebSocketTransport(socket, transportOptions, codec), context, {
      remoteAddress: request.socket.remoteAddress,
      openingRequest: context.proxy && request,
      codec,
    });
    socket.on('message', (data: RawData) => session.receive(rawDataBytes(data)));
    socket.on('close', () => session.closed());
    socket.on('error', (error: Error) => {
      // Protocol violations by the peer (oversized or invalid frames): ws closes the socket itself.
      context.logger.debug({ err: error.message, client: session.clientId }, 'websocket error');
    });
    return session;
  };
}
