import type Database from 'better-sqlite3';
import { settleBatch, type WriteOutcome } from './write-outcome.js';

/** Where {@link SqliteWriteQueue} reports a failed commit (which fails every write in it). */
export interface WriteQueueLogger {
  error(obj: object, msg: string): void;
}

interface QueuedWrite<S> {
  op: (s: S) => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = WriteOutcome;

/**
 * Group commit for better-sqlite3: writes queued during one event-loop turn
 * run in one transaction, so they share one fsync instead of paying one
 * each.
 *
 * Guarantees: writes run in the order they were queued; each runs in its
 * own savepoint, so one that throws is rolled back alone and rejects with
 * its error while the others commit; promises settle only after the commit,
 * in queue order; if the commit itself fails, every write of the batch
 * rejects and none took effect.
 */
export class SqliteWriteQueue<S> {
  private queue: QueuedWrite<S>[] = [];
  private timer: NodeJS.Immediate | undefined;
  private readonly runBatch: Database.Transaction<(batch: QueuedWrite<S>[], outcomes: Outcome[]) => void>;

  constructor(
    db: Database.Database,
    statements: S,
    private readonly logger?: WriteQueueLogger,
  ) {
    // Called inside the batch transaction, a transaction function runs in a savepoint.
    const inSavepoint = db.transaction((op: QueuedWrite<S>['op']) => op(statements));
    this.runBatch = db.transaction((batch: QueuedWrite<S>[], outcomes: Outcome[]) => {
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, value: inSavepoint(write.op) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    });
  }

  /** Queues a write for the next commit; settles once it is durable (or failed). */
  write<T>(op: (s: S) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      this.timer ??= setImmediate(() => this.flush());
    });
  }

  /** Commits every queued write now (also called before the database closes). */
  flush(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const outcomes: Outcome[] = [];
    try {
      this.runBatch.immediate(batch, outcomes);
    } catch (err) {
      this.logger?.error({ err, writes: batch.length }, 'chat store: batch commit failed');
      for (const write of batch) write.reject(err);
      return;
    }
    settleBatch(batch, outcomes);
  }
}
