import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import type { PresenceLedger } from '../presence/presence-ledger.js';
import type { Cluster } from './cluster.js';

/** How long a survivor holds the purge of a dead node: longer than any purge, shorter than presence's TTL. */
const PURGE_CLAIM_MS = 30_000;

/**
 * Removes a dead node's presence entries when the cluster evicts it, with
 * leave events, instead of leaving them for presence's TTL (a minute). One
 * survivor does it (the one whose claim succeeds); each entry is removed
 * through `Node.leave`, the path a client's own leave takes, so join/leave
 * limits and the broker apply as usual.
 */
export class DeadNodePresence {
  constructor(
    private readonly cluster: Cluster,
    private readonly ledger: PresenceLedger,
    private readonly node: Node,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.cluster.onEvicted((dead) => {
      this.purge(dead).catch((error: unknown) => this.logger.error({ err: error, node: dead }, 'dead node presence purge failed'));
    });
  }

  /** Removes `dead`'s entries when this node wins the claim; resolves with how many it removed. */
  async purge(dead: string): Promise<number> {
    if (!(await this.ledger.claim(dead, PURGE_CLAIM_MS))) return 0;
    const entries = await this.ledger.entriesOf(dead);
    const removed: typeof entries = [];
    for (const entry of entries) {
      try {
        await this.node.leave(this.node.channels.resolve(entry.channel), entry.info);
        removed.push(entry);
      } catch (error) {
        this.logger.warn({ err: error, channel: entry.channel, node: dead }, 'dead node presence entry not removed');
      }
    }
    await this.ledger.forget(dead, removed);
    this.logger.info({ node: dead, removed: removed.length }, 'dead node presence purged');
    return removed.length;
  }
}
