import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ChannelSpec } from '../channel/channel.js';
import type { ChatModule } from '../chat/chat-module.js';
import type { Logger } from '../log/logger.js';
import type { ChannelListener, Node } from '../node/node.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Publication } from '../protocol/types.js';
import { Heartbeat } from '../session/heartbeat.js';
import { seedAuthor } from './seed-author.js';
import { chatMessageOf, encodeSeedMessage, type SeedInput } from './seed-message.js';
import { SeedCloseCodes, SeedSocket } from './seed-socket.js';

/** Messages a new `/ws` client receives before the live ones. */
export const SEED_BACKLOG = 50;

export interface SeedBroadcastOptions {
  node: Node;
  chat: ChatModule;
  logger: Logger;
  /** The conversation bridged to `/ws`, e.g. `room:general`. */
  channel: string;
  /** Bytes that may wait for one client before it is dropped as slow. */
  maxQueuedBytes: number;
  /** Seconds between WebSocket pings to a client. */
  pingInterval: number;
  /** Seconds a client has to answer a ping before it is cut. */
  pongTimeout: number;
}

/**
 * The broadcast chat seed's `/ws`, bridged to one chat room.
 *
 * - What a `/ws` client sends is posted to the room with `chat.post` as the
 *   seed user (see `seedAuthor`), so it is stored, searchable and seen by
 *   every chat client.
 * - Every new message in the room, whoever posted it, reaches every `/ws`
 *   client in the seed's shape. One listener on the node serves all of
 *   them: each message is encoded once and the same bytes go to every socket.
 * - A new client first gets the room's latest {@link SEED_BACKLOG} messages
 *   (as the seed chat room sends its history to newcomers), then the live
 *   ones, with nothing missed and nothing twice: it starts holding live
 *   messages before the backlog is read (the chat stores a message before
 *   publishing it, so any message published earlier is in the backlog), and
 *   messages are told apart by seq (one stored before the read but published
 *   after it arrives twice, and is sent once).
 *
 * The listener is attached by {@link start} for the life of the server, so
 * no client ever waits for a channel subscription.
 */
export class SeedBroadcast implements ChannelListener {
  private readonly sockets = new Set<SeedSocket>();
  private readonly spec: ChannelSpec;
  private readonly logger: Logger;
  private readonly heartbeat: Heartbeat;
  private attached = false;
  private closed = false;

  constructor(private readonly options: SeedBroadcastOptions) {
    this.spec = options.node.channels.resolve(options.channel);
    this.logger = options.logger;
    this.heartbeat = new Heartbeat(options.pingInterval, options.pongTimeout);
  }

  /** Starts listening to the room, and pinging clients. */
  async start(): Promise<void> {
    await this.options.node.attach(this.spec, this);
    this.attached = true;
    this.heartbeat.start();
  }

  /** Number of open `/ws` clients. */
  get size(): number {
    return this.sockets.size;
  }

  /** Takes a new `/ws` connection. */
  accept(ws: WebSocket): void {
    if (this.closed) {
      ws.close(SeedCloseCodes.goingAway, 'server shutting down');
      return;
    }
    const logger = this.logger.child({ conn: randomUUID() });
    const socket: SeedSocket = new SeedSocket(ws, {
      maxQueuedBytes: this.options.maxQueuedBytes,
      logger,
      post: (input) => this.post(input, logger),
      onClose: () => {
        this.sockets.delete(socket);
        this.heartbeat.remove(socket);
      },
      onPong: () => this.heartbeat.pong(socket),
    });
    // Held from here on: anything published while the backlog is read reaches the socket after it.
    this.sockets.add(socket);
    this.heartbeat.add(socket);
    logger.debug('seed client connected');
    this.options.chat.latest(this.options.channel, SEED_BACKLOG).then(
      (backlog) => socket.start(backlog),
      (error: unknown) => {
        if (socket.closed) return;
        if (this.closed) {
          socket.close(SeedCloseCodes.goingAway, 'server shutting down');
          return;
        }
        logger.error({ err: error }, 'reading the backlog for a seed client failed');
        socket.close(SeedCloseCodes.internalError, 'history unavailable');
      },
    );
  }

  onPublication(_channel: string, publication: Publication): void {
    if (this.sockets.size === 0) return;
    const message = chatMessageOf(publication);
    if (!message) return;
    const frame = Buffer.from(encodeSeedMessage(message));
    for (const socket of this.sockets) socket.deliver(message.seq, frame);
  }

  onJoinLeave(): void {
    // The seed protocol has no presence.
  }

  /** Stops listening and closes every `/ws` client with 1001 (going away). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat.stop();
    for (const socket of this.sockets) socket.close(SeedCloseCodes.goingAway, 'server shutting down');
    if (this.attached) {
      this.attached = false;
      await this.options.node.detach(this.spec.name, this);
    }
  }

  private async post(input: SeedInput, logger: Logger): Promise<void> {
    try {
      await this.options.chat.post(seedAuthor(input.username, input.email), this.options.channel, input.message);
    } catch (error) {
      // Invalid text (blank, too long) or a server that is shutting down: the seed cannot be told.
      if (error instanceof ProtocolError && error.code !== 100) {
        logger.debug({ code: error.code, reason: error.message }, 'seed message not posted');
        return;
      }
      logger.error({ err: error }, 'posting a seed message failed');
    }
  }
}
