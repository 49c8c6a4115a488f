/**
 * Commands posted to the emulation endpoint reach the session wherever its
 * stream is: a load balancer may send the request to any node, and the
 * node named in it (the one that answered the stream's connect) is asked
 * directly over the cluster. The commands travel as bytes (base64 in the
 * question, which may cross Redis as JSON) with the name of their encoding.
 */
import type { Codec } from '../protocol/codec.js';
import type { EmulationDelivery, EmulationSessions } from '../session/emulation-sessions.js';
import type { Cluster } from './cluster.js';

const QUESTION = 'emulation';

/** What the node holding the session is asked: its key, the commands (base64) and their encoding. */
interface EmulationPayload {
  session: string;
  data: string;
  encoding: string;
}

/** What became of the commands: as on the node holding the session, or `unreachable` when that node did not answer. */
export type RelayOutcome = EmulationDelivery | 'unreachable';

const DELIVERIES: ReadonlySet<unknown> = new Set<EmulationDelivery>(['taken', 'unknown', 'busy', 'other-encoding']);

/** Makes this node take emulation commands for its own sessions, asked by any node (itself included). */
export function answerEmulation(cluster: Cluster, sessions: EmulationSessions): void {
  cluster.answer(QUESTION, (payload) => {
    const { session, data, encoding } = (payload ?? {}) as Partial<EmulationPayload>;
    if (typeof session !== 'string' || typeof data !== 'string' || typeof encoding !== 'string') throw new Error('malformed emulation payload');
    return sessions.deliver(session, Buffer.from(data, 'base64'), encoding);
  });
}

/** Hands the commands in `request` to its session on its node, this one or another. */
export async function relayEmulation(
  cluster: Cluster,
  request: { node: string; session: string; data: Buffer; codec: Codec },
): Promise<RelayOutcome> {
  const payload: EmulationPayload = { session: request.session, data: request.data.toString('base64'), encoding: request.codec.name };
  const result = await cluster.ask(request.node, QUESTION, payload);
  if (!result.ok) return result.reason === 'unknown-node' ? 'unknown' : 'unreachable';
  return DELIVERIES.has(result.answer) ? (result.answer as EmulationDelivery) : 'unreachable';
}
