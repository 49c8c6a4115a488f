import type { Disconnect } from '../protocol/errors.js';

/**
 * What a session needs from a connection, whatever carries it.
 *
 * Guarantees:
 * - Messages (pushes and replies) are sent in the order `send` and `reply`
 *   were called.
 * - Messages sent while the socket is busy (or within one event-loop turn)
 *   are coalesced into one frame and one write, as the connection's encoding
 *   joins them (JSON: newlines; Protobuf: length-prefixed, concatenated).
 * - The slow-reader rule measures pushes only: when pushes the client has not
 *   read pile up past the configured bound, the transport drops its queue and
 *   closes with the "slow" code; `send` and `reply` after that are no-ops.
 *   Replies never count towards it, whatever their size: each is bounded by
 *   its own cap (a history page, a recovery), and {@link replyRoom} lets the
 *   caller hold back further commands while replies wait, so memory per
 *   connection stays bounded by the push bound plus what replies in flight hold.
 * - Once `close` is called, nothing more is sent except the close frame.
 */
export interface Transport {
  /** Queues one push, encoded by the connection's codec. Buffers may be shared between connections and are never modified. */
  send(message: string | Buffer): void;
  /** Queues one reply the client asked for; it is not counted by the slow-reader rule. */
  reply(message: string | Buffer): void;
  /**
   * Undefined when replies waiting to be written are within the push bound;
   * otherwise a promise that resolves once they are (or the connection
   * closes). A reading client gets there; one that stops reading does not,
   * and its commands wait instead of piling up replies.
   */
  replyRoom(): Promise<void> | undefined;
  /**
   * Calls `callback` once everything sent so far has been handed to the
   * kernel (at once when nothing waits); never when the connection closes first.
   */
  afterWritten(callback: () => void): void;
  /** Bytes handed to the kernel so far; grows while a large write is under way, not only when it ends. */
  readonly bytesSent: number;
  /** Closes with a protocol disconnect code and reason. Idempotent. */
  close(disconnect: Disconnect): void;
  /** True once closing has started. */
  readonly closed: boolean;
}
