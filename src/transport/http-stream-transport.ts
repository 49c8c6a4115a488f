import type { Socket } from 'node:net';
import type { Disconnect } from '../protocol/errors.js';
import { QueuedTransport, type QueuedTransportOptions } from './queued-transport.js';
import { bodyFraming, LAST_CHUNK, type StreamFormat } from './stream-formats.js';

/** How long the peer may take to read the end of the stream before the socket is cut. */
const END_GRACE_MS = 3_000;
/** Emulation requests that may wait for a session holding back commands; more are refused at once. */
export const MAX_WAITING_REQUESTS = 8;

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
  /** Emulation requests waiting for the session to take commands again: each is told whether it may. */
  private waiting: ((mayDeliver: boolean) => void)[] = [];

  constructor(
    socket: Socket,
    private readonly format: StreamFormat,
    private readonly chunked: boolean,
    options: QueuedTransportOptions,
  ) {
    super(socket, bodyFraming(format, chunked), options);
    // A client that goes away ends the stream without `close`: requests waiting to deliver learn it at once.
    socket.once('close', () => this.answerWaiting(false));
  }

  protected get open(): boolean {
    return !this.ended && this.socket.writable;
  }

  /**
   * Resolves true when the session takes commands (at once, unless it has
   * too many command frames waiting; else once it has worked through half
   * of them), false when the stream ends first, `timeoutMs` passes, or
   * `MAX_WAITING_REQUESTS` requests wait already. This is the emulation
   * endpoint's back-pressure: an HTTP request has no TCP window to fill, so
   * the request is answered only once its commands are taken, and the
   * number of commands a session can be made to hold stays bounded.
   */
  whenTakingCommands(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (!this.holding) return Promise.resolve(true);
    if (this.waiting.length >= MAX_WAITING_REQUESTS) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((waiter) => waiter !== answer);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const answer = (mayDeliver: boolean): void => {
        clearTimeout(timer);
        resolve(mayDeliver);
      };
      this.waiting.push(answer);
    });
  }

  pause(): void {
    this.holding = true;
  }

  resume(): void {
    this.holding = false;
    this.answerWaiting(true);
  }

  private answerWaiting(mayDeliver: boolean): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const answer of waiting) answer(mayDeliver);
  }

  /** The disconnect push goes in the stream's own encoding, the last message before the body ends. */
  override close(disconnect: Disconnect): void {
    this.answerWaiting(false);
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
