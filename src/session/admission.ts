/**
 * Whether a connection may be made or kept, beyond its token being valid:
 * the account gate (deactivated accounts, ended account sessions) and the
 * server API's recent denials of the user. Both are read from services
 * shared by every node, so a refusal holds on whichever node the client
 * tries.
 */
import type { ConnectionGate } from '../accounts/account-gate.js';
import type { ConnectionCredentials } from '../auth/claims.js';
import type { ConnectionDenials } from '../cluster/connection-denials.js';
import type { Logger } from '../log/logger.js';
import type { Disconnect } from '../protocol/errors.js';

/** A refusal: the disconnect to close the connection with, and why (for the log). */
export interface Refusal {
  disconnect: Disconnect;
  detail: string;
}

/** What {@link refusalOf} consults. */
export interface AdmissionChecks {
  gate?: ConnectionGate;
  denials?: ConnectionDenials;
}

/**
 * The refusal of a connection with these credentials, or undefined when it
 * may go on: the gate's first (it is final), then a denial. Denials that
 * cannot be read let it through (logged): they only close a race, and must
 * not lock everyone out.
 */
export async function refusalOf(checks: AdmissionChecks, credentials: ConnectionCredentials, logger: Logger): Promise<Refusal | undefined> {
  const [refused, denied] = await Promise.all([
    checks.gate?.refusal(credentials.user, credentials.session),
    checks.denials?.deniedWith(credentials.user).catch((error: unknown) => {
      logger.warn({ err: error }, 'connection denials unavailable: connect allowed');
      return undefined;
    }),
  ]);
  if (refused) return { disconnect: refused, detail: `refused for its account: ${refused.reason}` };
  if (denied) return { disconnect: denied, detail: 'the user was disconnected by the server API moments ago' };
  return undefined;
}
