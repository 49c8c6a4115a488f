import { randomBytes } from 'node:crypto';
import type { Session } from './session.js';

/** What became of commands handed to a session through the emulation endpoint. */
export type EmulationDelivery =
  /** The session took them (they run in order with its other commands). */
  | 'taken'
  /** No open session has that key here: its stream ended, or it never existed. */
  | 'unknown'
  /** The session kept too many commands waiting for too long: these were refused (the client reconnects). */
  | 'busy'
  /** The commands are in another encoding than the session's: refused, the session goes on. */
  | 'other-encoding';

/** A session whose transport says when it takes commands (see `HttpStreamTransport.whenTakingCommands`). */
type EmulatedSession = Session & { readonly transport: { whenTakingCommands?(timeoutMs: number): Promise<boolean> } };

/** How long an emulation request may wait for its session to take commands, at most. */
const MAX_DELIVERY_WAIT_MS = 10_000;
/** Left between the wait and the cluster's question timeout, for the answer's way back. */
const ANSWER_MARGIN_MS = 500;

/**
 * This node's sessions over emulated transports (HTTP-streaming, SSE), by
 * the key the client names them by when it posts its later commands.
 *
 * Guarantees:
 * - A key is 144 random bits, unrelated to the client id (which other
 *   clients see in presence and publications): knowing a connection's
 *   client id does not let anyone send commands as it.
 * - A session is found from `add` until `remove` (the binding removes it
 *   when its stream ends), so nothing is kept for a stream that ended.
 */
export class EmulationSessions {
  private readonly sessions = new Map<string, EmulatedSession>();
  private readonly deliveryWaitMs: number;

  /**
   * @param questionTimeoutMs how long a node relaying a request waits for
   * this one (`Cluster.questionTimeoutMs`): a request waits for its session
   * less than that, so the relaying node hears the outcome rather than give
   * up while the commands are still delivered.
   */
  constructor(questionTimeoutMs = Number.POSITIVE_INFINITY) {
    this.deliveryWaitMs = Math.max(0, Math.min(MAX_DELIVERY_WAIT_MS, questionTimeoutMs - ANSWER_MARGIN_MS));
  }

  /** A fresh key for a new session. */
  newKey(): string {
    return randomBytes(18).toString('base64url');
  }

  add(session: EmulatedSession): void {
    if (session.emulationKey !== undefined) this.sessions.set(session.emulationKey, session);
  }

  remove(session: Session): void {
    if (session.emulationKey !== undefined && this.sessions.get(session.emulationKey) === session) this.sessions.delete(session.emulationKey);
  }

  /** Open sessions held here. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Hands `commands` (one or more commands in the encoding named `encoding`)
   * to the session with `key`, once it takes commands: a session working
   * through many waiting commands makes the request wait (see the
   * constructor) rather than hold more, or refuse them unseen.
   */
  async deliver(key: string, commands: Buffer, encoding: string): Promise<EmulationDelivery> {
    const session = this.sessions.get(key);
    if (!session || session.isClosed) return 'unknown';
    if (session.codec.name !== encoding) return 'other-encoding';
    const mayDeliver = (await session.transport.whenTakingCommands?.(this.deliveryWaitMs)) ?? true;
    if (session.isClosed) return 'unknown';
    if (!mayDeliver) return 'busy';
    session.receive(commands);
    return 'taken';
  }
}
