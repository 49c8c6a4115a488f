import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { Disconnects, type Disconnect } from '../protocol/errors.js';
import { sharedTextFrame, textFrame } from './frame.js';
import { socketDescriptor } from './direct-write.js';
import { outbox as processOutbox, type Outbox, type OutboxEntry } from './outbox.js';
import type { Transport } from './transport.js';

export interface WebSocketTransportOptions {
  /** Bytes that may wait (ours plus the socket's) before the client counts as slow. */
  maxQueuedBytes: number;
  /** Called once per connection dropped for reading too slowly, with its remote address. */
  onSlow?: (remoteAddress: string | undefined) => void;
  /** Where writes are collected; the process's outbox unless a test brings its own. */
  outbox?: Outbox;
}

const NEWLINE = Buffer.from('\n');
/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 3_000;
/** How long a slow client gets for the close frame, which waits behind everything it has not read. */
const SLOW_CLOSE_GRACE_MS = 1_000;

type Message = string | Buffer;

/**
 * A {@link Transport} over a `ws` WebSocket.
 *
 * Messages are not written when sent: the connection schedules itself in
 * the {@link Outbox}, which writes every connection's messages at the end
 * of the event-loop turn. Everything a connection was sent until then, and
 * everything sent while a previous write is still in the socket's stream,
 * leaves as one newline-joined frame in one write.
 *
 * Frames are built here and written straight to the TCP socket (`ws` only
 * handles the handshake, reading, and closing): a buffer shared by all
 * subscribers of a channel is framed once for all of them (see `frame.ts`).
 * This is sound because the server never compresses (`perMessageDeflate` is
 * off), so `ws` never holds frames of its own that ours could overtake.
 */
export class WebSocketTransport implements Transport, OutboxEntry {
  readonly socket: Socket;
  readonly fd: number;
  /** The only message waiting, or the first of several (the rest in `more`): one message, the common case, needs no array. */
  private first: Message | undefined;
  private more: Message[] | undefined;
  private queuedBytes = 0;
  /** idle: nothing waits; scheduled: in the outbox; writing: a write is in the socket's stream, new messages wait for it. */
  private state: 'idle' | 'scheduled' | 'writing' = 'idle';
  private closing = false;
  private readonly outbox: Outbox;

  readonly written = (error?: Error | null): void => {
    this.state = 'idle';
    if (error || this.closing || this.first === undefined) return;
    this.state = 'scheduled';
    this.outbox.schedule(this);
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WebSocketTransportOptions,
  ) {
    this.socket = (ws as unknown as { _socket: Socket })._socket;
    this.fd = socketDescriptor(this.socket);
    this.outbox = options.outbox ?? processOutbox;
  }

  get closed(): boolean {
    return this.closing;
  }

  send(message: Message): void {
    if (this.closing) return;
    // A message with nothing ahead of it is never the sign of a slow reader,
    // however large (a long history page): only what has to wait is limited.
    const alone = this.first === undefined && this.state === 'idle' && this.socket.writableLength === 0;
    if (this.first === undefined) this.first = message;
    else (this.more ??= []).push(message);
    this.queuedBytes += typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    if (!alone && this.queuedBytes + this.socket.writableLength > this.options.maxQueuedBytes) {
      this.dropSlow();
      return;
    }
    if (this.state === 'idle') {
      this.state = 'scheduled';
      this.outbox.schedule(this);
    }
  }

  takeBytes(): Buffer | undefined {
    const bytes = this.closing ? undefined : this.takeFrame();
    this.state = bytes === undefined ? 'idle' : 'writing';
    return bytes;
  }

  /** What waits, as one frame (undefined when nothing waits or the WebSocket is no longer open); the queue is emptied either way. */
  private takeFrame(): Buffer | undefined {
    const first = this.first;
    const more = this.more;
    this.clear();
    if (first === undefined || this.ws.readyState !== WebSocket.OPEN) return undefined;
    if (more === undefined) return typeof first === 'string' ? textFrame(first) : sharedTextFrame(first);
    return textFrame(joinLines(first, more));
  }

  /** Stops reading from the socket (TCP back-pressure reaches the client). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /** Closes after writing what was sent before (unless the client is being dropped for being slow). */
  close(disconnect: Disconnect): void {
    if (this.closing) return;
    // The close frame goes through the socket's stream; what waits must go before it.
    const bytes = this.takeFrame();
    if (bytes) {
      this.state = 'writing';
      this.socket.write(bytes, this.written);
    }
    this.closing = true;
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

  private clear(): void {
    this.first = undefined;
    this.more = undefined;
    this.queuedBytes = 0;
  }

  private dropSlow(): void {
    this.clear();
    this.options.onSlow?.(this.socket.remoteAddress);
    this.close(Disconnects.slow);
    // The close frame would wait behind everything the client has not read.
    setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }
}

function joinLines(first: Message, more: readonly Message[]): Buffer {
  const parts: Buffer[] = [toBuffer(first)];
  for (const message of more) parts.push(NEWLINE, toBuffer(message));
  return Buffer.concat(parts);
}

function toBuffer(message: Message): Buffer {
  return typeof message === 'string' ? Buffer.from(message) : message;
}
