import type { Disconnect } from '../protocol/errors.js';

/**
 * What a session needs from a connection, whatever carries it.
 *
 * Guarantees:
 * - Messages are sent in the order `send` was called.
 * - Messages sent while the socket is busy (or within one event-loop turn)
 *   are coalesced: joined with newlines into one frame and one write.
 * - Queued bytes are bounded: when a client reads too slowly the transport
 *   drops its queue and closes with the "slow" code; `send` after that is a
 *   no-op. Memory per connection therefore stays below the configured bound.
 * - Once `close` is called, nothing more is sent except the close frame.
 */
export interface Transport {
  /** Queues one protocol message (a JSON line, no trailing newline). Buffers may be shared between connections and are never modified. */
  send(message: string | Buffer): void;
  /** Closes with a protocol disconnect code and reason. Idempotent. */
  close(disconnect: Disconnect): void;
  /** True once closing has started. */
  readonly closed: boolean;
}
