import type { HistoryPage, HistoryQuery } from '../../src/store/store.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/**
 * A store whose recovery reads can be held up, as a slow database would:
 * the read is made at once but its answer waits until released, so
 * publications made meanwhile are not in it and reach the subscription
 * before its reply.
 */
export class SlowRecoveryStore extends MemoryStore {
  private gate: { reached: () => void; released: Promise<void> } | undefined;

  /** Holds up the next recovery read; resolves once a read is held, with the function that releases it. */
  holdNextRecovery(): Promise<() => void> {
    return new Promise((resolveReached) => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      this.gate = { reached: () => resolveReached(release), released };
    });
  }

  override async read(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const page = await super.read(channel, query);
    const gate = this.gate;
    if (gate && query.since) {
      this.gate = undefined;
      gate.reached();
      await gate.released;
    }
    return page;
  }
}
