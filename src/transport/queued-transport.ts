import type { Socket } from 'node:net';
import { Disconnects, type Disconnect } from '../protocol/errors.js';
import { socketDescriptor } from './direct-write.js';
import { outbox as processOutbox, type Outbox, type OutboxEntry } from './outbox.js';
import type { Transport } from './transport.js';

/** One message as the session hands it over: a JSON line (no trailing newline), or a buffer shared between connections. */
export type Message = string | Buffer;

/**
 * How a connection turns the messages waiting for it into the bytes of one
 * write: a WebSocket frame, an HTTP chunk of lines or of server-sent events.
 * Each carrier's framing lives in one place, so that another encoding
 * (length-delimited Protobuf) plugs in as another framing.
 */
export interface Framing {
  /**
   * The bytes for `first` and, when several messages wait, the rest in `more`
   * (never empty when given). A `first` Buffer alone is shared by every
   * subscriber of a channel: its bytes may be cached per Buffer, and it is never modified.
   */
  frame(first: Message, more: readonly Message[] | undefined): Buffer;
}

export interface QueuedTransportOptions {
  /**
   * Bytes of pushes that may wait (ours plus the socket's) before the client
   * counts as slow; also the reply backlog past which {@link QueuedTransport.replyRoom} waits.
   */
  maxQueuedBytes: number;
  /** Called once per connection dropped for reading too slowly, with its remote address. */
  onSlow?: (remoteAddress: string | undefined) => void;
  /** Where writes are collected; the process's outbox unless a test brings its own. */
  outbox?: Outbox;
}

/** How long a slow client gets for the closing bytes, which wait behind everything it has not read. */
const SLOW_CLOSE_GRACE_MS = 1_000;

/**
 * The part of a {@link Transport} that does not depend on what carries the
 * bytes: ordering, coalescing, the slow-reader rule, reply room, write
 * callbacks and byte counts, over a TCP socket the connection owns.
 *
 * Messages are not written when sent: the connection schedules itself in
 * the {@link Outbox}, which writes every connection's messages at the end
 * of the event-loop turn. Everything a connection was sent until then, and
 * everything sent while a previous write is still in the socket's stream,
 * leaves as one frame (see {@link Framing}) in one write.
 *
 * A subclass says whether the connection is still open for messages, and
 * how it ends (`finish`, after what was queued has been written) and is cut
 * (`terminate`).
 */
export abstract class QueuedTransport implements Transport, OutboxEntry {
  readonly fd: number;
  /** The only message waiting, or the first of several (the rest in `more`): one message, the common case, needs no array. */
  private first: Message | undefined;
  private more: Message[] | undefined;
  private queuedBytes = 0;
  /** The part of `queuedBytes` that replies take. */
  private queuedReplyBytes = 0;
  /** Reply bytes in the write under way (there is at most one), until it is handed to the kernel. */
  private writingReplyBytes = 0;
  /** Size of the frame in the write under way. */
  private writingBytes = 0;
  /** Bytes of frames whose write completed. */
  private handedBytes = 0;
  /** {@link afterWritten} callbacks for the messages still queued, and for the frame being written. */
  private flushCallbacks: (() => void)[] | undefined;
  private writingCallbacks: (() => void)[] | undefined;
  /** Callers of {@link replyRoom} waiting for replies to be written. */
  private roomWaiters: (() => void)[] | undefined;
  /** idle: nothing waits; scheduled: in the outbox; writing: a write is in the socket's stream, new messages wait for it. */
  private state: 'idle' | 'scheduled' | 'writing' = 'idle';
  private closing = false;
  private readonly outbox: Outbox;

  readonly written = (error?: Error | null): void => {
    this.state = 'idle';
    this.writingReplyBytes = 0;
    const callbacks = this.writingCallbacks;
    this.writingCallbacks = undefined;
    if (!error) this.handedBytes += this.writingBytes;
    this.writingBytes = 0;
    if (!error && !this.closing && this.first !== undefined) {
      this.state = 'scheduled';
      this.outbox.schedule(this);
    }
    // After a failed write the socket is going away: nobody waits for room that will never come.
    if (this.roomWaiters && (error || this.replyBacklog <= this.options.maxQueuedBytes)) this.releaseWaiters();
    if (callbacks && !error) for (const callback of callbacks) callback();
  };

  constructor(
    readonly socket: Socket,
    private readonly framing: Framing,
    private readonly options: QueuedTransportOptions,
  ) {
    this.fd = socketDescriptor(socket);
    this.outbox = options.outbox ?? processOutbox;
    // A peer that goes away leaves queued replies unwritten: whoever waits for room must not wait forever.
    socket.once('close', () => this.releaseWaiters());
  }

  /** Whether messages can still reach the peer (the socket and the protocol above it are open). */
  protected abstract get open(): boolean;
  /** Ends the connection once what was queued before has been written; `close` calls it once. */
  protected abstract finish(disconnect: Disconnect): void;
  /** Cuts the connection at once. */
  protected abstract terminate(): void;

  get closed(): boolean {
    return this.closing;
  }

  send(message: Message): void {
    if (this.closing) return;
    // A push with nothing ahead of it is never the sign of a slow reader,
    // however large: only what has to wait is limited.
    const alone = this.first === undefined && this.state === 'idle' && this.socket.writableLength === 0;
    this.enqueue(message);
    if (!alone && this.pushBacklog > this.options.maxQueuedBytes) {
      this.dropSlow();
      return;
    }
    this.schedule();
  }

  /**
   * Replies are what the client asked for and waits for: one, however large
   * (a history page, a recovery), says nothing about whether the client
   * reads. What does is pushes piling up behind it, which {@link send} measures.
   */
  reply(message: Message): void {
    if (this.closing) return;
    this.queuedReplyBytes += this.enqueue(message);
    this.schedule();
  }

  replyRoom(): Promise<void> | undefined {
    if (this.closing || !this.open || this.replyBacklog <= this.options.maxQueuedBytes) return undefined;
    return new Promise((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  afterWritten(callback: () => void): void {
    if (this.closing) return;
    if (this.first !== undefined) (this.flushCallbacks ??= []).push(callback);
    else if (this.state === 'writing') (this.writingCallbacks ??= []).push(callback);
    else callback();
  }

  get bytesSent(): number {
    if (this.state !== 'writing') return this.handedBytes;
    // What is left of the write under way sits in libuv's queue, which shrinks as the kernel takes it.
    const queued = (this.socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize;
    return this.handedBytes + (typeof queued === 'number' ? Math.max(0, this.writingBytes - queued) : 0);
  }

  /** Reply bytes not yet handed to the kernel. */
  private get replyBacklog(): number {
    return this.queuedReplyBytes + this.writingReplyBytes;
  }

  /**
   * Push bytes not yet handed to the kernel: ours, and the socket's less the
   * replies in the write under way (never below zero: part of that write may
   * have gone already, and the pushes in it are then counted as gone first).
   */
  private get pushBacklog(): number {
    return this.queuedBytes - this.queuedReplyBytes + Math.max(0, this.socket.writableLength - this.writingReplyBytes);
  }

  /** Adds a message to the queue; returns its size in bytes. */
  protected enqueue(message: Message): number {
    if (this.first === undefined) this.first = message;
    else (this.more ??= []).push(message);
    const bytes = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    this.queuedBytes += bytes;
    return bytes;
  }

  private schedule(): void {
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

  /** What waits, as one frame (undefined when nothing waits or the connection is no longer open); the queue is emptied either way. */
  private takeFrame(): Buffer | undefined {
    const first = this.first;
    const more = this.more;
    const replyBytes = this.queuedReplyBytes;
    const callbacks = this.flushCallbacks;
    this.clear();
    if (first === undefined || !this.open) return undefined;
    this.writingReplyBytes = replyBytes;
    this.writingCallbacks = callbacks;
    const frame = this.framing.frame(first, more);
    this.writingBytes = frame.length;
    return frame;
  }

  /** Closes after writing what was sent before (unless the client is being dropped for being slow). Idempotent. */
  close(disconnect: Disconnect): void {
    if (this.closing) return;
    // What finishes the connection goes through the socket's stream; what waits must go before it.
    const bytes = this.takeFrame();
    if (bytes) {
      this.state = 'writing';
      this.socket.write(bytes, this.written);
    }
    this.closing = true;
    this.releaseWaiters();
    this.finish(disconnect);
  }

  private clear(): void {
    this.first = undefined;
    this.more = undefined;
    this.queuedBytes = 0;
    this.queuedReplyBytes = 0;
    this.flushCallbacks = undefined;
  }

  private releaseWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = undefined;
    if (waiters) for (const resolve of waiters) resolve();
  }

  private dropSlow(): void {
    this.clear();
    this.options.onSlow?.(this.socket.remoteAddress);
    this.close(Disconnects.slow);
    // The closing bytes would wait behind everything the client has not read.
    setTimeout(() => this.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }
}

/** Messages joined into one buffer with `separator` between them (Protobuf's are length-prefixed and need none). */
export function joinMessages(first: Message, more: readonly Message[], separator: Buffer): Buffer {
  const parts: Buffer[] = [toBuffer(first)];
  for (const message of more) {
    if (separator.length > 0) parts.push(separator);
    parts.push(toBuffer(message));
  }
  return Buffer.concat(parts);
}

export function toBuffer(message: Message): Buffer {
  return typeof message === 'string' ? Buffer.from(message) : message;
}
