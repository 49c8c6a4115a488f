/**
 * How the chat stores' write queues settle a batch: every write ran in its
 * own savepoint and left an outcome; once the batch committed, each write's
 * promise settles with its own outcome, in queue order.
 */

/** What one write of a committed batch came to. */
export type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A queued write's promise. */
export interface Settleable {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Settles each write with its outcome (same index), in order. */
export function settleBatch(batch: readonly Settleable[], outcomes: readonly WriteOutcome[]): void {
  batch.forEach((write, i) => {
    const outcome = outcomes[i]!;
    if (outcome.ok) write.resolve(outcome.value);
    else write.reject(outcome.error);
  });
}
