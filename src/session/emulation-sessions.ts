import { randomBytes } from 'node:crypto';
import type { Session } from './session.js';

/** What became of commands handed to a session through the emulation endpoint. */
export type EmulationDelivery =
  /** The session took them (they run in order with its other commands). */
  | 'taken'
  /** No open session has that key here: its stream ended, or it never existed. */
  | 'unknown'
  /** The session has too many commands waiting: these were refused, the client may send them again. */
  | 'busy'
  /** The commands are in another encoding than the session's: refused, the session goes on. */
  | 'other-encoding';

/** A session whose transport can say that it holds back commands (see `HttpStreamTransport.holdingCommands`). */
type EmulatedSession = Session & { readonly transport: { readonly holdingCommands?: boolean } };

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

  /** Hands `commands` (one or more commands in the encoding named `encoding`) to the session with `key`. */
  deliver(key: string, commands: Buffer, encoding: string): EmulationDelivery {
    const session = this.sessions.get(key);
    if (!session || session.isClosed) return 'unknown';
    if (session.codec.name !== encoding) return 'other-encoding';
    if (session.transport.holdingCommands) return 'busy';
    session.receive(commands);
    return 'taken';
  }
}
