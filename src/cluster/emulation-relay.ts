/**
 * Commands posted to the emulation endpoint reach the session wherever its
 * stream is: a load balancer may send the request to any node, and the
 * node named in it (the one that answered the stream's connect) is asked
 * directly over the cluster.
 */
import type { EmulationDelivery, EmulationSessions } from '../session/emulation-sessions.js';
import type { Cluster } from './cluster.js';

const QUESTION = 'emulation';

/** What the node holding the session is asked: its key and the command lines. */
interface EmulationPayload {
  session: string;
  data: string;
}

/** What became of the commands: as on the node holding the session, or `unreachable` when that node did not answer. */
export type RelayOutcome = EmulationDelivery | 'unreachable';

const DELIVERIES: ReadonlySet<unknown> = new Set<EmulationDelivery>(['taken', 'unknown', 'busy']);

/** Makes this node take emulation commands for its own sessions, asked by any node (itself included). */
export function answerEmulation(cluster: Cluster, sessions: EmulationSessions): void {
  cluster.answer(QUESTION, (payload) => {
    const { session, data } = (payload ?? {}) as Partial<EmulationPayload>;
    if (typeof session !== 'string' || typeof data !== 'string') throw new Error('malformed emulation payload');
    return sessions.deliver(session, data);
  });
}

/** Hands `data` to session `session` on node `node`, this one or another. */
export async function relayEmulation(cluster: Cluster, node: string, session: string, data: string): Promise<RelayOutcome> {
  const result = await cluster.ask(node, QUESTION, { session, data } satisfies EmulationPayload);
  if (!result.ok) return result.reason === 'unknown-node' ? 'unknown' : 'unreachable';
  return DELIVERIES.has(result.answer) ? (result.answer as EmulationDelivery) : 'unreachable';
}
