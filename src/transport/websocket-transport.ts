import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { Disconnects, type Disconnect } from '../protocol/errors.js';
import { sharedTextFrame, textFrame } from './frame.js';
import type { Transport } from './transport.js';

export interface WebSocketTransportOptions {
  /** Bytes that may wait (ours plus the socket's) before the client counts as slow. */
  maxQueuedBytes: number;
  /** Called once when the connection is dropped for reading too slowly. */
  onSlow?: () => void;
}

const NEWLINE = Buffer.from('\n');
/** Clients decode text frames only; a Buffer would otherwise go out as a binary frame. */
const TEXT_FRAME = { binary: false } as const;
/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 3_000;

/**
 * A {@link Transport} over a `ws` WebSocket.
 *
 * At most one write is in flight per connection. While it is, messages
 * accumulate and then leave together as one newline-joined frame, so a busy
 * connection costs one write per drain instead of one per message.
 *
 * Frames are built here and written straight to the TCP socket (`ws` only
 * handles the handshake, reading, and closing): a buffer shared by all
 * subscribers of a channel is framed once for all of them (see `frame.ts`)
 * and costs each subscriber one socket write. This is sound because the
 * server never compresses (`perMessageDeflate` is off), so `ws` never holds
 * frames of its own that ours could overtake.
 */
export class WebSocketTransport implements Transport {
  private queue: (string | Buffer)[] = [];
  private queuedBytes = 0;
  private writing = false;
  private closing = false;
  private readonly onWritten = (error?: Error | null) => this.afterWrite(error ?? undefined);

  constructor(
    private readonly socket: WebSocket,
    private readonly options: WebSocketTransportOptions,
  ) {}

  get closed(): boolean {
    return this.closing;
  }

  send(message: string | Buffer): void {
    if (this.closing) return;
    if (!this.writing) {
      this.write(message);
      return;
    }
    this.queue.push(message);
    this.queuedBytes += typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    if (this.queuedBytes + this.socket.bufferedAmount > this.options.maxQueuedBytes) this.dropSlow();
  }

  /** Stops reading from the socket (TCP back-pressure reaches the client). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(disconnect: Disconnect): void {
    if (this.closing) return;
    this.closing = true;
    this.queue = [];
    this.queuedBytes = 0;
    try {
      // A paused socket would never read the peer's close reply, stalling the handshake.
      this.socket.resume();
      this.socket.close(disconnect.code, disconnect.reason);
    } catch {
      this.socket.terminate();
      return;
    }
    // A peer that never answers the close frame must not hold the socket.
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Writes one message; `shared` marks a buffer other connections also receive (framed once for all). */
  private write(message: string | Buffer, shared = true): void {
    this.writing = true;
    const raw = (this.socket as unknown as { _socket?: Socket })._socket;
    if (raw && this.socket.readyState === WebSocket.OPEN) {
      const frame = typeof message === 'string' ? textFrame(message) : shared ? sharedTextFrame(message) : textFrame(message);
      raw.write(frame, this.onWritten);
    } else {
      this.socket.send(message, TEXT_FRAME, this.onWritten);
    }
  }

  private afterWrite(error?: Error): void {
    this.writing = false;
    if (error || this.closing) return;
    if (this.queue.length === 0) return;
    const pending = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (pending.length === 1) this.write(pending[0] as string | Buffer);
    else this.write(joinLines(pending), false);
  }

  private dropSlow(): void {
    this.options.onSlow?.();
    this.close(Disconnects.slow);
    // The close frame would wait behind everything the client has not read.
    setTimeout(() => this.socket.terminate(), 1_000).unref();
  }
}

function joinLines(messages: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) parts.push(NEWLINE);
    const message = messages[i] as string | Buffer;
    parts.push(typeof message === 'string' ? Buffer.from(message) : message);
  }
  return Buffer.concat(parts);
}
