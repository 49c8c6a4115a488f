import type { NodeStats } from '../node/node.js';

/** What a node tells the others about itself. */
export interface ClusterMember {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** Read at every heartbeat (and for `nodes()`, for this node). */
  stats(): NodeStats;
}

/** A live node as last heard. */
export interface NodeInfo {
  id: string;
  name: string;
  version: string;
  stats: NodeStats;
}

/** Computes this node's answer to a survey question; the payload and the answer are JSON values. */
export type Answerer = (payload: unknown) => unknown;

/** What a survey gathered. */
export interface SurveyResult {
  /** One answer per node that answered in time, this node's included. */
  answers: Array<{ node: string; answer: unknown }>;
  /** True when a live node did not answer (it died, timed out or failed): the answers are not everyone's. */
  partial: boolean;
  /** The ids of the nodes that did not answer. */
  missing: string[];
}

/** What a question to one node got. */
export type AskResult =
  | { ok: true; answer: unknown }
  /** `unknown-node`: no live node has that id (it never existed, left, or was evicted); `no-answer`: it did not answer in time, or failed to. */
  | { ok: false; reason: 'unknown-node' | 'no-answer' };

/**
 * The other nodes of a deployment, as one node sees them.
 *
 * Guarantees every implementation keeps (checked by `test/contracts/cluster-contract.ts`):
 * - **Registry.** After `start`, `nodes()` lists this node (with its current
 *   stats) and every node heard from within the eviction time, each with the
 *   stats of its last heartbeat. A node that closes gracefully is dropped at
 *   once by the others, without an eviction event.
 * - **Eviction.** A node not heard from within the eviction time is dropped
 *   and every `onEvicted` listener is called once with its id: it died or
 *   lost the bus; it did not say goodbye.
 * - **Surveys end.** `survey` resolves within its timeout, never rejects for
 *   a node's sake, and says `partial` when a node it counted on did not
 *   answer. This node's answer is always included when its answerer
 *   succeeds. A node asked a question it has no answerer for counts as not
 *   answering. Delivery is at most once: a survey is never retried.
 * - **Asking one node.** `ask` puts a question to one node only: this node
 *   answers it itself; a node not in `nodes()` is `unknown-node` at once,
 *   without asking anyone; a live node that does not answer within the
 *   survey timeout (or has no answerer, or its answerer fails) is
 *   `no-answer`. It never rejects and, like a survey, is at most once.
 * - `close` is idempotent; after it, `nodes()` lists nobody else and
 *   surveys gather this node's answer only.
 */
export interface Cluster {
  /** Joins: announces this node and starts hearing the others. */
  start(self: ClusterMember): Promise<void>;
  /** Live nodes, this one first. */
  nodes(): NodeInfo[];
  /** Sets how this node answers `question`; a second call for a question replaces the first. */
  answer(question: string, answerer: Answerer): void;
  /** Asks every live node, this one included, and gathers their answers. */
  survey(question: string, payload?: unknown): Promise<SurveyResult>;
  /** Asks the node with id `nodeId` (this one included) and resolves with its answer. */
  ask(nodeId: string, question: string, payload?: unknown): Promise<AskResult>;
  /**
   * How long a question to another node waits for its answer (Infinity when
   * there is no other node): an answerer that takes longer is answered for
   * `no-answer` by the asker while it still acts.
   */
  readonly questionTimeoutMs: number;
  /** Calls `listener` with the id of every node evicted for silence. */
  onEvicted(listener: (nodeId: string) => void): void;
  /** Leaves gracefully: the others drop this node at once. Clients passed in stay open. */
  close(): Promise<void>;
}

/** This node's own answer to a question put to it by `ask`. */
export async function askSelf(answerer: Answerer | undefined, payload: unknown): Promise<AskResult> {
  const result = await answerOf(answerer, payload);
  return result.ok ? { ok: true, answer: result.answer } : { ok: false, reason: 'no-answer' };
}

/** Runs an answerer, turning a throw or rejection into `undefined` (no answer). */
export async function answerOf(answerer: Answerer | undefined, payload: unknown): Promise<{ ok: true; answer: unknown } | { ok: false; error: unknown }> {
  if (!answerer) return { ok: false, error: new Error('no answerer for this question') };
  try {
    return { ok: true, answer: await answerer(payload) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A member's entry in `nodes()`. */
export function infoOf(member: ClusterMember): NodeInfo {
  return { id: member.id, name: member.name, version: member.version, stats: member.stats() };
}
