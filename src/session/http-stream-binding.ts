import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { HttpStreamTransport } from '../transport/http-stream-transport.js';
import type { QueuedTransportOptions } from '../transport/queued-transport.js';
import type { StreamFormat } from '../transport/stream-formats.js';
import type { EmulationSessions } from './emulation-sessions.js';
import { Session, type SessionContext } from './session.js';

/** A streaming response whose head has been written: the socket, the body's layout, and the command that opened it. */
export interface AcceptedStream {
  socket: Socket;
  format: StreamFormat;
  /** Whether the body is sent in HTTP/1.1 chunks. */
  chunked: boolean;
  /** The commands the request carried, in the format's encoding (the SDK sends its connect command). */
  commands: Buffer;
  /** The request that opened the stream: the backend proxy forwards its configured headers. */
  request: IncomingMessage;
}

/**
 * Binds each accepted HTTP stream to a new protocol session, findable by
 * its emulation key until the stream ends: the request's commands in,
 * the response body out, the socket's end to the session's cleanup.
 */
export function httpStreamSessions(context: SessionContext, sessions: EmulationSessions): (stream: AcceptedStream) => Session {
  // One options object for every connection, as for WebSockets.
  const transportOptions: QueuedTransportOptions = {
    maxQueuedBytes: context.node.config.maxQueuedBytes,
    onSlow: (remote) => context.logger.info({ remote }, 'slow client dropped'),
  };
  return ({ socket, format, chunked, commands, request }) => {
    const transport = new HttpStreamTransport(socket, format, chunked, transportOptions);
    const session = new Session(transport, context, {
      remoteAddress: socket.remoteAddress,
      emulationKey: sessions.newKey(),
      // Only the proxy's configured headers are kept from it, and only when a proxy is configured.
      openingRequest: context.proxy && request,
      transportName: format.transport,
      codec: format.codec,
    });
    sessions.add(session);
    socket.once('close', () => {
      sessions.remove(session);
      session.closed();
    });
    session.receive(commands);
    return session;
  };
}
