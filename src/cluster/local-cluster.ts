import { answerOf, askSelf, infoOf, type Answerer, type AskResult, type Cluster, type ClusterMember, type NodeInfo, type SurveyResult } from './cluster.js';

/**
 * A deployment of one process: the registry is this node, a survey asks
 * this node only, and nobody is ever evicted. What `npm start` runs.
 */
export class LocalCluster implements Cluster {
  /** Questions are answered in this process: nobody gives up waiting. */
  readonly questionTimeoutMs = Number.POSITIVE_INFINITY;
  private self: ClusterMember | undefined;
  private readonly answerers = new Map<string, Answerer>();

  async start(self: ClusterMember): Promise<void> {
    this.self = self;
  }

  nodes(): NodeInfo[] {
    return this.self ? [infoOf(this.self)] : [];
  }

  answer(question: string, answerer: Answerer): void {
    this.answerers.set(question, answerer);
  }

  async survey(question: string, payload?: unknown): Promise<SurveyResult> {
    const id = this.self?.id ?? '';
    const result = await answerOf(this.answerers.get(question), payload);
    if (result.ok) return { answers: [{ node: id, answer: result.answer }], partial: false, missing: [] };
    return { answers: [], partial: true, missing: [id] };
  }

  async ask(nodeId: string, question: string, payload?: unknown): Promise<AskResult> {
    if (!this.self || nodeId !== this.self.id) return { ok: false, reason: 'unknown-node' };
    return askSelf(this.answerers.get(question), payload ?? null);
  }

  onEvicted(): void {
    // Nobody else to evict.
  }

  async close(): Promise<void> {
    // Nothing held.
  }
}
