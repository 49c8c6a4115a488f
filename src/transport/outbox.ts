import type { Socket } from 'node:net';
import { canWriteDirectly, directWriter, type DirectWriter } from './direct-write.js';

/** A connection with bytes waiting; the outbox asks for them when it flushes. */
export interface OutboxEntry {
  /** The TCP socket the bytes go to. */
  readonly socket: Socket;
  /** The socket's descriptor as {@link socketDescriptor} read it when the connection began (-1: never write directly). */
  readonly fd: number;
  /**
   * Everything queued since the entry was scheduled, as one buffer, or
   * undefined when nothing is to be written any more (the connection is
   * closing). Called once per flush the entry was scheduled for.
   */
  takeBytes(): Buffer | undefined;
  /**
   * Called once for every buffer `takeBytes` returned, when all of it has
   * been handed to the kernel (`error` when the socket failed). A property,
   * not a method, so it can be the stream's write callback as it is.
   */
  readonly written: (error?: Error | null) => void;
}

/**
 * Writes what connections queued during one turn of the event loop, all
 * together at its end (the loop's check phase, right after it has handled
 * the I/O it polled).
 *
 * Fanning a publication out to a thousand subscribers schedules a thousand
 * entries; the flush then writes them with one call into native code (one
 * `send(2)` each, see `direct-write.ts`) instead of a thousand trips
 * through Node's streams, and an entry that queued several messages in the
 * turn costs one write for all of them: replies to every command a client
 * sent in the turn, and every publication that the turn's incoming messages
 * fanned out to it.
 *
 * Guarantees:
 * - The flush runs in `setImmediate`, never inside the code that scheduled;
 *   entries are asked for their bytes in the order they were scheduled.
 * - Per socket, bytes leave in the order they were taken: they are written
 *   directly only when Node has nothing queued for the socket; otherwise,
 *   and for whatever a direct write left over, they go through the socket's
 *   stream, behind what is queued there.
 * - `written` is called exactly once per buffer taken: synchronously during
 *   the flush after a complete direct write, or from the stream's write
 *   callback.
 *
 * Callers schedule an entry at most once until it is asked for its bytes
 * (two entries for one socket in one flush could reorder its bytes).
 */
export class Outbox {
  private scheduled: OutboxEntry[] = [];
  private fds = new Int32Array(64);
  private results = new Int32Array(64);
  private readonly directEntries: OutboxEntry[] = [];
  private readonly directBuffers: Buffer[] = [];
  private readonly flush = () => this.flushScheduled();

  /** @param writer the native writer; without one every write goes through the socket's stream. */
  constructor(private readonly writer: DirectWriter | undefined = directWriter) {}

  /** True when writes bypass the streams through the native writer. */
  get direct(): boolean {
    return this.writer !== undefined;
  }

  schedule(entry: OutboxEntry): void {
    if (this.scheduled.push(entry) === 1) setImmediate(this.flush);
  }

  private flushScheduled(): void {
    const batch = this.scheduled;
    this.scheduled = [];
    const entries = this.directEntries;
    const buffers = this.directBuffers;
    try {
      for (const entry of batch) {
        let bytes: Buffer | undefined;
        try {
          bytes = entry.takeBytes();
        } catch (error) {
          // A failing entry must not strand the others, nor stay scheduled forever.
          entry.written(error as Error);
          continue;
        }
        if (bytes === undefined) continue;
        const fd = entry.fd;
        if (!this.writer || fd < 0 || !canWriteDirectly(entry.socket)) {
          entry.socket.write(bytes, entry.written);
          continue;
        }
        this.reserve(entries.length + 1);
        this.fds[entries.length] = fd;
        entries.push(entry);
        buffers.push(bytes);
      }
      if (entries.length === 0) return;
      try {
        (this.writer as DirectWriter).writeEach(this.fds, buffers, entries.length, this.results);
      } catch {
        // Nothing was written for the entries not reached: all of them go through their streams.
        this.results.fill(-1, 0, entries.length);
      }
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i] as OutboxEntry;
        const bytes = buffers[i] as Buffer;
        const result = this.results[i] as number;
        if (result === bytes.length) entry.written();
        // The rest waits for the socket in its stream. After a failure the
        // stream's own write fails the same way and reports it (error, close).
        else entry.socket.write(result > 0 ? bytes.subarray(result) : bytes, entry.written);
      }
    } finally {
      // Buffers must not outlive the flush (they can be large and many).
      entries.length = 0;
      buffers.length = 0;
    }
  }

  private reserve(count: number): void {
    if (count <= this.fds.length) return;
    const size = Math.max(count, this.fds.length * 2);
    const fds = new Int32Array(size);
    fds.set(this.fds);
    this.fds = fds;
    this.results = new Int32Array(size);
  }
}

/** The process's outbox: one flush per event-loop turn for every connection. */
export const outbox = new Outbox();
