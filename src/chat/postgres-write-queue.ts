import type { Sql, TransactionSql } from 'postgres';
import { settleBatch, type WriteOutcome } from './write-outcome.js';

/** Where {@link PostgresWriteQueue} reports a failed commit (which fails every write in it). */
export interface PostgresWriteQueueLogger {
  error(obj: object, msg: string): void;
}

/** A write: statements run in the batch transaction, inside the write's own savepoint. */
export type PostgresWrite<T> = (tx: TransactionSql) => Promise<T>;

interface QueuedWrite {
  op: PostgresWrite<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = WriteOutcome;

/** Times a batch with a write that lost a deadlock (to another node's transaction) is run again. */
const DEADLOCK_RETRIES = 5;
/** PostgreSQL's deadlock_detected and serialization_failure. */
const RETRYABLE = new Set(['40P01', '40001']);

/** Thrown inside a batch transaction to roll all of it back and run it again. */
class RetryBatch extends Error {}

/**
 * Group commit for postgres.js: writes queued during one event-loop turn run
 * in one transaction, so they share one commit; batches commit one after
 * another.
 *
 * Guarantees: writes run in the order they were queued; each runs in its
 * own savepoint, so one that throws is rolled back alone and rejects with
 * its error while the others commit; promises settle only after the commit,
 * in queue order; if the commit itself fails, every write of the batch
 * rejects. When a write loses a deadlock against another node, the whole
 * batch is rolled back (releasing every lock it held, which the other node
 * may be waiting for) and run again, up to {@link DEADLOCK_RETRIES} times;
 * after that the write rejects with the deadlock error alone.
 */
export class PostgresWriteQueue {
  private queue: QueuedWrite[] = [];
  private timer: NodeJS.Immediate | undefined;
  /** The last batch handed to PostgreSQL; the next one starts after it settles. */
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly logger?: PostgresWriteQueueLogger,
  ) {}

  /** Queues a write for the next batch; settles once it is committed (or failed). */
  write<T>(op: PostgresWrite<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      this.timer ??= setImmediate(() => this.flush());
    });
  }

  /** Hands every queued write to PostgreSQL now and resolves once every batch so far has settled. */
  async drain(): Promise<void> {
    this.flush();
    await this.last;
  }

  private flush(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.last = this.last.then(() => this.commit(batch));
  }

  private async commit(batch: QueuedWrite[]): Promise<void> {
    let outcomes: Outcome[] | undefined;
    for (let attempt = 0; !outcomes; attempt++) {
      const lastTry = attempt === DEADLOCK_RETRIES;
      try {
        outcomes = await this.sql.begin(async (tx) => {
          const done: Outcome[] = [];
          for (const write of batch) {
            const outcome = await runInSavepoint(tx, write.op);
            if (!outcome.ok && isRetryable(outcome.error) && !lastTry) throw new RetryBatch();
            done.push(outcome);
          }
          return done;
        });
      } catch (err) {
        if (err instanceof RetryBatch) continue;
        this.logger?.error({ err, writes: batch.length }, 'chat store: batch commit failed');
        for (const write of batch) write.reject(err);
        return;
      }
    }
    settleBatch(batch, outcomes);
  }
}

async function runInSavepoint(tx: TransactionSql, op: PostgresWrite<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await tx.savepoint((sp) => op(sp)) };
  } catch (error) {
    return { ok: false, error };
  }
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}
