import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Disconnect } from '../protocol/errors.js';
import { dataFrame, sharedDataFrame } from './frame.js';
import { joinMessages, QueuedTransport, type Framing, type Message, type QueuedTransportOptions } from './queued-transport.js';

export type WebSocketTransportOptions = QueuedTransportOptions;

/** How the connection's encoding puts messages into frames (see `Codec`). */
export interface MessageFraming {
  /** Binary frames (else text frames). */
  readonly binary: boolean;
  /** What goes between two messages of one frame. */
  readonly separator: Buffer;
}

/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 3_000;

/** One frame per write: a message alone, or several joined as the encoding says. */
function webSocketFraming({ binary, separator }: MessageFraming): Framing {
  return {
    frame: (first: Message, more: readonly Message[] | undefined) =>
      more === undefined
        ? (typeof first === 'string' ? dataFrame(first, binary) : sharedDataFrame(first, binary))
        : dataFrame(joinMessages(first, more, separator), binary),
  };
}

/** The JSON protocol's framing: newline-separated messages in text frames. */
const JSON_FRAMING: Framing = webSocketFraming({ binary: false, separator: Buffer.from('\n') });
/** Framings made so far, by the encoding's (shared) framing description: every connection of an encoding shares one. */
const framings = new WeakMap<MessageFraming, Framing>();

function framingOf(messages: MessageFraming | undefined): Framing {
  if (messages === undefined) return JSON_FRAMING;
  let framing = framings.get(messages);
  if (!framing) framings.set(messages, (framing = webSocketFraming(messages)));
  return framing;
}

/**
 * A {@link Transport} over a `ws` WebSocket (queueing and coalescing in
 * {@link QueuedTransport}).
 *
 * Frames are built here and written straight to the TCP socket (`ws` only
 * handles the handshake, reading, and closing): a buffer shared by all
 * subscribers of a channel is framed once for all of them (see `frame.ts`).
 * This is sound because the server never compresses (`perMessageDeflate` is
 * off), so `ws` never holds frames of its own that ours could overtake.
 */
export class WebSocketTransport extends QueuedTransport {
  constructor(
    private readonly ws: WebSocket,
    options: WebSocketTransportOptions,
    framing?: MessageFraming,
  ) {
    super((ws as unknown as { _socket: Socket })._socket, framingOf(framing), options);
  }

  protected get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Stops reading from the socket (TCP back-pressure reaches the client). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  protected finish(disconnect: Disconnect): void {
    try {
      // A paused socket would never read the peer's close reply, stalling the handshake.
      this.ws.resume();
      this.ws.close(disconnect.code, disconnect.reason);
    } catch {
      this.ws.terminate();
      return;
    }
    // A peer that never answers the close frame must not hold the socket.
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  protected terminate(): void {
    this.ws.terminate();
  }
}
