/**
 * Closing a user's connections on every node of the deployment, for the
 * server API's `disconnect` and for account actions (sign-out everywhere,
 * deactivation).
 */
import type { ConnectionFilter } from '../node/node.js';
import type { Logger } from '../log/logger.js';
import type { Disconnect } from '../protocol/errors.js';
import type { Cluster } from './cluster.js';
import type { ConnectionDenials } from './connection-denials.js';
import { actOnUser, Questions } from './node-questions.js';

/**
 * How long a user disconnected for good (a code that does not reconnect, all
 * their connections) is refused new connections: long enough for a connect
 * that was under way on any node to meet it.
 */
export const DENY_RECONNECT_MS = 5_000;

/** What {@link disconnectUserEverywhere} works with. */
export interface UserDisconnectParts {
  cluster: Cluster;
  denials: ConnectionDenials;
  logger: Logger;
}

/**
 * Closes the connections of `user` that `filter` selects, on every node,
 * with `disconnect`. A terminal disconnect of all their connections also
 * refuses their new connections for {@link DENY_RECONNECT_MS}, so one that
 * was connecting meanwhile cannot slip past. Resolves with how many
 * connections were closed (of the nodes that answered).
 */
export async function disconnectUserEverywhere(parts: UserDisconnectParts, user: string, disconnect: Disconnect, filter: ConnectionFilter = {}): Promise<number> {
  const everyConnection = filter.client === undefined && filter.accountSession === undefined && (filter.except ?? []).length === 0;
  if (!disconnect.reconnect && everyConnection) {
    // The denial only closes a reconnect race: when it cannot be written, the disconnect itself still happens.
    await parts.denials.deny(user, disconnect, DENY_RECONNECT_MS).catch((error: unknown) => parts.logger.warn({ err: error }, 'connection denial not recorded'));
  }
  const { count } = await actOnUser(parts.cluster, Questions.disconnect, { user, disconnect, filter });
  return count;
}
