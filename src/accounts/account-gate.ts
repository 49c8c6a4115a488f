/**
 * The protocol-level check of accounts: a connection (on connect and on
 * every token refresh) is refused when its user's account is deactivated
 * or the account session its token names has ended, on whichever node it
 * arrives, because every node reads the same account store.
 */
import type { Logger } from '../log/logger.js';
import { Disconnects, type Disconnect } from '../protocol/errors.js';
import type { AccountStore } from './account-store.js';

/** Decides whether a connection of `user` (with the account session `sessionId` its token named) may be made or kept. */
export interface ConnectionGate {
  /** The disconnect to refuse it with, or undefined when it may go ahead. */
  refusal(user: string, sessionId: string | undefined): Promise<Disconnect | undefined>;
}

/** Lets every connection through: for servers without accounts (tests of the protocol alone). */
export const OPEN_GATE: ConnectionGate = { refusal: async () => undefined };

/**
 * {@link ConnectionGate} on the account store: one indexed read per call.
 * Users without an account (guests, users of tokens minted elsewhere) pass
 * unless their token names a session; an integrator's token whose user is
 * a deactivated account is refused like the account's own.
 *
 * While the store cannot be read, connections are let through (logged):
 * an outage must not lock everyone out, and a deactivated person's
 * connections were closed when it happened and their tokens expire within
 * minutes.
 */
export class AccountGate implements ConnectionGate {
  constructor(
    private readonly accounts: AccountStore,
    private readonly logger: Logger,
  ) {}

  async refusal(user: string, sessionId: string | undefined): Promise<Disconnect | undefined> {
    if (user === '') return undefined;
    let standing;
    try {
      standing = await this.accounts.standing(user, sessionId, Date.now());
    } catch (error) {
      this.logger.warn({ err: error }, 'account store unavailable: connection let through unchecked');
      return undefined;
    }
    switch (standing) {
      case 'deactivated':
        return Disconnects.accountDeactivated;
      case 'session-ended':
        return Disconnects.signedOut;
      case 'not-an-account':
        // A session id for a user without an account is forged or stale: nothing vouches for it.
        return sessionId === undefined ? undefined : Disconnects.signedOut;
      case 'active':
        return undefined;
    }
  }
}
