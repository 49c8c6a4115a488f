import type { WebSocket } from 'ws';
import type { ChatMessage } from '../chat/protocol.js';
import type { Logger } from '../log/logger.js';
import type { HeartbeatTarget } from '../session/heartbeat.js';
import { RateLimiter } from '../session/rate-limiter.js';
import { rawDataText } from '../transport/raw-data.js';
import { encodeSeedMessage, parseSeedInput, type SeedInput } from './seed-message.js';

/** WebSocket close codes used on `/ws` (RFC 6455 §7.4.1). */
export const SeedCloseCodes = {
  /** The server is shutting down. */
  goingAway: 1001,
  /** The client flooded the server or did not read what it was sent. */
  policyViolation: 1008,
  /** The server could not serve the connection (its history could not be read). */
  internalError: 1011,
} as const;

/** Messages a `/ws` connection may send per second, sustained. */
export const SEED_MESSAGES_PER_SECOND = 20;
/** Messages a `/ws` connection may send at once above the rate. */
export const SEED_MESSAGE_BURST = 40;
/**
 * Messages over the rate that are ignored before the connection is closed:
 * this many at once, then {@link SEED_MESSAGES_PER_SECOND} per second. A
 * client a little over the rate loses its excess; one that floods is cut off.
 */
export const SEED_IGNORED_BURST = 100;
/** Messages of one connection waiting to be posted; more are ignored. */
const MAX_WAITING_POSTS = SEED_MESSAGE_BURST;
/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 3_000;
/** How long a slow client gets for the close frame, which waits behind everything it has not read. */
const SLOW_CLOSE_GRACE_MS = 1_000;
/** Text frames: the seed parses every frame with `JSON.parse(e.data)`. */
const TEXT_FRAME = { binary: false } as const;

export interface SeedSocketOptions {
  /** Bytes that may wait for this client (its socket's buffers) before it counts as slow. */
  maxQueuedBytes: number;
  /** Per-connection logger. */
  logger: Logger;
  /** Posts a message the client sent; called in arrival order, one at a time. Must not reject. */
  post(input: SeedInput): Promise<void>;
  /** Called once when the socket has closed. */
  onClose(): void;
  /** Called for every pong (the answer to a WebSocket ping, which browsers send by themselves). */
  onPong(): void;
}

/**
 * One `/ws` connection of the broadcast chat seed.
 *
 * Outgoing: one chat message per text frame, never joined (the seed parses
 * each frame as one JSON object). Until {@link start} has sent the backlog,
 * live messages are held; afterwards each is sent once, in order: a message
 * whose seq is not above the newest already sent is dropped, which removes
 * the overlap between the backlog and the live stream. Memory is bounded:
 * when what waits in the socket's buffers plus the next frame would exceed
 * `maxQueuedBytes`, the client is closed (1008) instead.
 *
 * Incoming: text frames holding `{email, username, message}`, rate-limited;
 * anything else is ignored with a debug log and the connection stays open
 * (the seed has no way to show an error). A client that keeps flooding past
 * the rate is closed (1008).
 *
 * Liveness: the seed knows no application pings, so the heartbeat uses
 * WebSocket ping frames, which browsers answer by themselves; a client that
 * stops answering is cut.
 */
export class SeedSocket implements HeartbeatTarget {
  private held: { seq: number; frame: Buffer }[] | undefined = [];
  private heldBytes = 0;
  private lastSeq = 0;
  private closing = false;
  private readonly messages = new RateLimiter(SEED_MESSAGES_PER_SECOND, SEED_MESSAGE_BURST);
  private readonly ignored = new RateLimiter(SEED_MESSAGES_PER_SECOND, SEED_IGNORED_BURST);
  private posting: Promise<void> = Promise.resolve();
  private waitingPosts = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: SeedSocketOptions,
  ) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.receive(data, isBinary));
    ws.on('error', (error: Error) => options.logger.debug({ err: error }, 'seed socket error'));
    ws.on('pong', () => options.onPong());
    ws.once('close', (code: number) => {
      this.closing = true;
      this.held = undefined;
      options.logger.debug({ code }, 'seed client disconnected');
      options.onClose();
    });
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Sends the backlog (oldest first; deleted messages are skipped), then what arrived meanwhile, and goes live. */
  start(backlog: readonly ChatMessage[]): void {
    const held = this.held;
    if (this.closing || !held) return;
    this.held = undefined;
    this.heldBytes = 0;
    for (const message of backlog) {
      if (message.seq <= this.lastSeq) continue;
      this.lastSeq = message.seq;
      if (!message.deleted) this.send(Buffer.from(encodeSeedMessage(message)));
    }
    for (const { seq, frame } of held) this.deliver(seq, frame);
  }

  /** Delivers a live chat message (its seq and its frame, shared by every client; not modified). */
  deliver(seq: number, frame: Buffer): void {
    if (this.closing) return;
    if (this.held) {
      this.held.push({ seq, frame });
      this.heldBytes += frame.length;
      if (this.heldBytes > this.options.maxQueuedBytes) this.dropSlow();
      return;
    }
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.send(frame);
  }

  /** Closes with a WebSocket close code; the socket is cut if the peer does not answer in time. Idempotent. */
  close(code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
    if (this.closing) return;
    this.closing = true;
    this.held = undefined;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
      return;
    }
    setTimeout(() => this.ws.terminate(), graceMs).unref();
  }

  sendPing(): void {
    if (this.closing) return;
    try {
      this.ws.ping();
    } catch {
      // The socket is closing; its close event cleans up.
    }
  }

  onPongTimeout(): void {
    this.options.logger.debug('seed client did not answer pings; cut');
    this.closing = true;
    this.held = undefined;
    this.ws.terminate();
  }

  private send(frame: Buffer): void {
    if (this.closing) return;
    const buffered = this.ws.bufferedAmount;
    // A frame larger than the bound still goes to a client that has read everything.
    if (buffered > 0 && buffered + frame.length > this.options.maxQueuedBytes) {
      this.dropSlow();
      return;
    }
    this.ws.send(frame, TEXT_FRAME);
  }

  private dropSlow(): void {
    this.options.logger.info({ maxQueuedBytes: this.options.maxQueuedBytes }, 'slow seed client dropped');
    this.close(SeedCloseCodes.policyViolation, 'too slow: messages were not read in time', SLOW_CLOSE_GRACE_MS);
  }

  private receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closing) return;
    const { logger } = this.options;
    if (!this.messages.take()) {
      if (!this.ignored.take()) {
        logger.info('seed client flooding; closed');
        this.close(SeedCloseCodes.policyViolation, 'too many messages');
        return;
      }
      logger.debug('seed message over the rate limit; ignored');
      return;
    }
    if (isBinary) {
      logger.debug('binary frame from a seed client; ignored');
      return;
    }
    const input = parseSeedInput(rawDataText(data));
    if ('problem' in input) {
      logger.debug({ problem: input.problem }, 'malformed seed message; ignored');
      return;
    }
    if (this.waitingPosts >= MAX_WAITING_POSTS) {
      logger.debug('too many seed messages waiting to be posted; ignored');
      return;
    }
    // One at a time, so a client's messages reach the room in the order it sent them.
    this.waitingPosts++;
    this.posting = this.posting.then(async () => {
      try {
        await this.options.post(input);
      } catch (error) {
        logger.error({ err: error }, 'posting a seed message failed');
      } finally {
        this.waitingPosts--;
      }
    });
  }
}
