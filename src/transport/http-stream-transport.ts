import type { Socket } from 'node:net';
import type { Disconnect } from '../protocol/errors.js';
import { QueuedTransport, type QueuedTransportOptions } from './queued-transport.js';
import { bodyFraming, LAST_CHUNK, type StreamFormat } from './stream-formats.js';

/** How long the peer may take to read the end of the stream before the socket is cut. */
const END_GRACE_MS = 3_000;

/**
 * A {@link Transport} over a streaming HTTP response (HTTP-streaming or
 * server-sent events): the server writes replies and pushes into a response
 * body that stays open; the client's later commands arrive through the
 * emulation endpoint. Queueing and coalescing are {@link QueuedTransport}'s;
 * the layout of the body is the {@link StreamFormat}'s.
 *
 * The response head is written by whoever accepted the request, before the
 * transport is made; the transport owns the socket from then on and writes
 * to it directly (through the outbox, like a WebSocket).
 *
 * A response body has no close frame: `close` sends a disconnect push (code
 * and reason, which the SDK acts on as on a WebSocket close code) after
 * everything queued, then ends the body and the connection.
 */
export class HttpStreamTransport extends QueuedTransport {
  private ended = false;
  private holding = false;

  constructor(
    socket: Socket,
    private readonly format: StreamFormat,
    private readonly chunked: boolean,
    options: QueuedTransportOptions,
  ) {
    super(socket, bodyFraming(format, chunked), options);
  }

  protected get open(): boolean {
    return !this.ended && this.socket.writable;
  }

  /**
   * True while the session has too many command frames waiting: the
   * emulation endpoint then refuses more for this session instead of
   * holding them (an HTTP request has no TCP back-pressure to apply).
   */
  get holdingCommands(): boolean {
    return this.holding;
  }

  pause(): void {
    this.holding = true;
  }

  resume(): void {
    this.holding = false;
  }

  /** The disconnect push goes in the stream's own encoding, the last message before the body ends. */
  override close(disconnect: Disconnect): void {
    if (!this.closed && this.open) this.enqueue(this.format.codec.disconnect(disconnect.code, disconnect.reason));
    super.close(disconnect);
  }

  protected finish(): void {
    this.ended = true;
    if (this.chunked && this.socket.writable) this.socket.write(LAST_CHUNK);
    this.socket.end();
    const socket = this.socket;
    const cut = setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
    socket.once('close', () => clearTimeout(cut));
  }

  protected terminate(): void {
    this.ended = true;
    this.socket.destroy();
  }
}
