import type { Sql, TransactionSql } from 'postgres';
import { settleWithin } from '../async/settle-within.js';
import type { PublishRequest, StreamPosition } from '../protocol/types.js';
import { migrate, STREAM_SCHEMA } from './postgres-migrations.js';
import type { KeyedPosition } from './recent-keys.js';
import { IDEMPOTENCY_WINDOW_MS, type AppendedPublication, type HistoryPage, type HistoryQuery, type Retention, type Store } from './store.js';
import { StoreLifecycle } from './store-lifecycle.js';
import { checkSince, decodeRow, encodeRow, newEpoch, publicationBytes, takeWithinBytes, toPublication, validateLimit, validateRetention, type StoredRow } from './stream-rules.js';

/** Options for {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * The client to use (postgres.js). The store neither opens nor ends it:
   * its owner ends it after {@link PostgresStore.close}.
   */
  sql: Sql;
  /** Where failures that no caller is waiting on, or that affect many, are reported. */
  logger?: { error(obj: object, msg: string): void };
  /** How often expired publications are deleted. @default 60000 */
  sweepIntervalMs?: number;
}

/**
 * Longest a batch's transaction is waited for. A connection that died
 * silently (no TCP close) would otherwise hold every later append of this
 * node until the kernel gives up on it, minutes later; past this wait the
 * batch rejects (its outcome unknown: a retry with an idempotency key is
 * safe) and the next one goes on, on another connection of the pool.
 */
const COMMIT_WAIT_MS = 30_000;

/** Rows per INSERT statement: 6 parameters each stays under PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK_ROWS = 5000;

interface MetaRow {
  epoch: string;
  top: number;
  ttlMs: number;
}

/** An append waiting for the next batch commit; its offsets are reserved in that commit. */
interface PendingAppend {
  channel: string;
  messages: PublishRequest[];
  rows: Pick<StoredRow, 'data' | 'info' | 'tags'>[];
  retention: Retention;
  time: number;
  resolve(pubs: AppendedPublication[]): void;
  reject(err: Error): void;
}

/**
 * {@link Store} on PostgreSQL, safe to share between several processes
 * ("nodes") on one database.
 *
 * Appends called in one event-loop turn are committed together in one
 * transaction; batches commit one after another, in call order. Offsets are
 * reserved inside that transaction by incrementing the channel's
 * `stream_meta` row, which holds the row lock until COMMIT: offsets are
 * dense across nodes, and offset N+1 is never committed before N. Promises
 * resolve only after COMMIT, in call order. Channels are locked in sorted
 * order so that two nodes' batches never deadlock.
 *
 * `read` and `position` see committed data only, from one snapshot. Expired
 * rows are hidden on read and deleted by a periodic sweep. A batch whose
 * COMMIT fails with the connection (so its outcome is unknown) rejects,
 * although PostgreSQL may have committed it.
 */
export class PostgresStore implements Store {
  private readonly sql: Sql;
  private readonly lifecycle = new StoreLifecycle();
  private pending: PendingAppend[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  /** Write transactions run one at a time, in call order; this is the last one. */
  private writes: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PostgresStoreOptions) {
    this.sql = options.sql;
  }

  async open(): Promise<void> {
    if (!this.lifecycle.beginOpen()) return;
    await migrate(this.sql, [STREAM_SCHEMA]);
    this.lifecycle.opened();
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  async append(channel: string, messages: PublishRequest[], retention: Retention): Promise<AppendedPublication[]> {
    this.lifecycle.assertOpen();
    validateRetention(retention);
    // Encoded first, so a value that cannot be stored fails this call alone.
    const rows = messages.map((m) => {
      // JSON text never holds a raw NUL, and PostgreSQL text cannot store one.
      if (typeof m.data === 'string' && m.data.includes('\u0000')) {
        throw new TypeError('publication data must be JSON text (it holds a raw NUL character)');
      }
      return encodeRow(m);
    });
    const time = Date.now();
    return new Promise<AppendedPublication[]>((resolve, reject) => {
      this.pending.push({ channel, messages, rows, retention, time, resolve, reject });
      this.flushScheduled ??= setImmediate(() => this.flush());
    });
  }

  async read(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    this.lifecycle.assertOpen();
    validateLimit(query.limit);
    await this.ensureStream(channel);
    // One snapshot: the position and the rows agree even while other nodes append.
    return this.sql.begin('isolation level repeatable read read only', async (tx) => {
      const meta = await selectMeta(tx, channel);
      if (!meta) throw new Error(`channel ${channel} has no stream row`);
      const position: StreamPosition = { offset: meta.top, epoch: meta.epoch };
      const minTime = meta.ttlMs > 0 ? Date.now() - meta.ttlMs : null;
      const { since, reverse = false, limit, maxBytes } = query;
      if (since) {
        const first = !reverse && since.offset < meta.top ? await firstLive(tx, channel, minTime) : null;
        checkSince(since, position, reverse, () => first ?? meta.top + 1);
      }
      if (limit === 0) return { publications: [], position };
      const from = reverse ? (since ? since.offset : meta.top + 1) : since ? since.offset : 0;
      const found = await readRows(tx, channel, { from, reverse, minTime, limit: limit < 0 ? null : limit, maxBytes });
      const page = takeWithinBytes(found, maxBytes, (r) => publicationBytes(r.data, r.info, r.tags));
      return { publications: page.map((r) => decodeRow(r, meta.epoch)), position };
    });
  }

  async position(channel: string): Promise<StreamPosition> {
    this.lifecycle.assertOpen();
    const meta = await this.ensureStream(channel);
    return { offset: meta.top, epoch: meta.epoch };
  }

  async removeHistory(channel: string): Promise<void> {
    this.lifecycle.assertOpen();
    // Appends called before this one commit first, under the old epoch, so
    // the removal covers them; later ones queue behind it.
    this.flush();
    return this.serialize(() =>
      this.sql.begin(async (tx) => {
        const [old] = await tx<{ epoch: string }[]>`SELECT epoch FROM stream_meta WHERE channel = ${channel} FOR UPDATE`;
        let epoch = newEpoch();
        while (epoch === old?.epoch) epoch = newEpoch();
        await tx`INSERT INTO stream_meta (channel, epoch, top_offset, ttl_ms) VALUES (${channel}, ${epoch}, 0, 0)
                 ON CONFLICT (channel) DO UPDATE SET epoch = EXCLUDED.epoch`;
        await tx`DELETE FROM publications WHERE channel = ${channel}`;
        await tx`DELETE FROM idempotency_keys WHERE channel = ${channel}`;
      }).then(() => undefined),
    );
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    clearInterval(this.sweepTimer);
    this.flush();
    // Failures were delivered to the appends' own promises.
    await this.writes.catch(() => undefined);
  }

  /** The committed stream row of a channel, creating one with a fresh epoch for a new channel. */
  private async ensureStream(channel: string): Promise<MetaRow> {
    const existing = await selectMeta(this.sql, channel);
    if (existing) return existing;
    await this.sql`INSERT INTO stream_meta (channel, epoch, top_offset, ttl_ms) VALUES (${channel}, ${newEpoch()}, 0, 0)
                   ON CONFLICT (channel) DO NOTHING`;
    const created = await selectMeta(this.sql, channel);
    if (!created) throw new Error(`channel ${channel} has no stream row`);
    return created;
  }

  /** Runs `write` after every write transaction started before it. */
  private serialize<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writes.then(write);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Hands the queued appends to the write queue as one batch; settles their promises in call order. */
  private flush(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.serialize(() =>
      settleWithin(this.sql.begin((tx) => commitBatch(tx, batch, Date.now())), COMMIT_WAIT_MS, () =>
        new Error(`store: the commit did not finish within ${COMMIT_WAIT_MS / 1000} s; its outcome is unknown`),
      ),
    ).then(
      (results) => batch.forEach((p, i) => p.resolve(results[i]!)),
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        const channels = [...new Set(batch.map((p) => p.channel))];
        this.options.logger?.error({ err: error, channels, appends: batch.length }, 'store: batch commit failed');
        for (const p of batch) p.reject(error);
      },
    );
  }

  private async sweep(): Promise<void> {
    if (!this.lifecycle.isOpen) return;
    try {
      // Takes each channel's stream row first, as appends do, and skips the
      // ones being appended to (swept next time): the two never deadlock.
      await this.sql`WITH m AS (SELECT channel, ttl_ms FROM stream_meta WHERE ttl_ms > 0 FOR UPDATE SKIP LOCKED)
                     DELETE FROM publications p USING m
                     WHERE p.channel = m.channel AND p.time < ${Date.now()} - m.ttl_ms`;
      await this.sql`DELETE FROM idempotency_keys WHERE time <= ${Date.now() - IDEMPOTENCY_WINDOW_MS}`;
    } catch (err) {
      this.options.logger?.error({ err }, 'store: TTL sweep failed');
    }
  }
}

/**
 * Stores one batch: per channel (in sorted order, so concurrent batches lock
 * rows in the same order), reserves its offsets under the row lock, inserts
 * its rows, then applies retention as if each append were applied on its
 * own. Returns each append's publications, in batch order.
 */
async function commitBatch(tx: TransactionSql, batch: PendingAppend[], now: number): Promise<AppendedPublication[][]> {
  const byChannel = new Map<string, PendingAppend[]>();
  for (const p of batch) {
    const list = byChannel.get(p.channel);
    if (list) list.push(p);
    else byChannel.set(p.channel, [p]);
  }
  const results = new Map<PendingAppend, AppendedPublication[]>();
  const inserts: (StoredRow & { channel: string })[] = [];
  const keyInserts: { channel: string; key: string; offset: number; epoch: string; time: number }[] = [];
  const retained: { channel: string; trimUpTo: number; shortestTtl: number; ttlMs: number; previousTtl: number }[] = [];
  for (const channel of [...byChannel.keys()].sort()) {
    const appends = byChannel.get(channel)!;
    const keys = appends.flatMap((p) => p.messages.flatMap((m) => (m.idempotencyKey === undefined ? [] : [m.idempotencyKey])));
    // Keys already used, read under the channel's row lock: no other node can use one meanwhile.
    const known = keys.length > 0 ? await knownKeys(tx, channel, keys, now) : new Map<string, KeyedPosition>();
    const fresh = new Set<string>();
    let count = 0;
    for (const p of appends) {
      for (const m of p.messages) {
        const key = m.idempotencyKey;
        if (key !== undefined && (known.has(key) || fresh.has(key))) continue;
        if (key !== undefined) fresh.add(key);
        count++;
      }
    }
    const [reserved] = await tx<{ epoch: string; top_offset: string; ttl_ms: string }[]>`
      INSERT INTO stream_meta (channel, epoch, top_offset, ttl_ms) VALUES (${channel}, ${newEpoch()}, ${count}, 0)
      ON CONFLICT (channel) DO UPDATE SET top_offset = stream_meta.top_offset + EXCLUDED.top_offset
      RETURNING epoch, top_offset, ttl_ms`;
    if (!reserved) throw new Error(`channel ${channel} has no stream row`);
    const epoch = reserved.epoch;
    const previousTtl = Number(reserved.ttl_ms);
    let last = Number(reserved.top_offset) - count;
    // Keep what every append's size allows, and expire under every TTL in
    // force meanwhile (so a longer TTL never brings back what a shorter one hid).
    let trimUpTo = 0;
    let shortestTtl = previousTtl;
    for (const p of appends) {
      const published: AppendedPublication[] = [];
      p.messages.forEach((m, i) => {
        const key = m.idempotencyKey;
        const first = key === undefined ? undefined : known.get(key);
        if (first) {
          published.push({ ...toPublication(m, first.offset, first.epoch, first.time), replayed: true });
          return;
        }
        const offset = ++last;
        published.push(toPublication(m, offset, epoch, p.time));
        inserts.push({ channel, offset, time: p.time, ...p.rows[i]! });
        if (key !== undefined) {
          known.set(key, { offset, epoch, time: p.time });
          keyInserts.push({ channel, key, offset, epoch, time: p.time });
        }
      });
      results.set(p, published);
      trimUpTo = Math.max(trimUpTo, last - p.retention.size);
      if (p.retention.ttlMs > 0 && (shortestTtl <= 0 || p.retention.ttlMs < shortestTtl)) shortestTtl = p.retention.ttlMs;
    }
    retained.push({ channel, trimUpTo, shortestTtl, ttlMs: appends.at(-1)!.retention.ttlMs, previousTtl });
  }
  for (let i = 0; i < inserts.length; i += INSERT_CHUNK_ROWS) {
    const chunk = inserts.slice(i, i + INSERT_CHUNK_ROWS);
    await tx`INSERT INTO publications ${tx(chunk, 'channel', 'offset', 'data', 'info', 'tags', 'time')}`;
  }
  for (let i = 0; i < keyInserts.length; i += INSERT_CHUNK_ROWS) {
    const chunk = keyInserts.slice(i, i + INSERT_CHUNK_ROWS);
    // An expired key's row may still be there (the sweep deletes it later): it is replaced.
    await tx`INSERT INTO idempotency_keys ${tx(chunk, 'channel', 'key', 'offset', 'epoch', 'time')}
             ON CONFLICT (channel, key) DO UPDATE SET "offset" = EXCLUDED."offset", epoch = EXCLUDED.epoch, time = EXCLUDED.time`;
  }
  for (const { channel, trimUpTo, shortestTtl, ttlMs, previousTtl } of retained) {
    if (trimUpTo > 0) await tx`DELETE FROM publications WHERE channel = ${channel} AND "offset" <= ${trimUpTo}`;
    if (shortestTtl > 0) await tx`DELETE FROM publications WHERE channel = ${channel} AND time < ${now - shortestTtl}`;
    if (ttlMs !== previousTtl) await tx`UPDATE stream_meta SET ttl_ms = ${ttlMs} WHERE channel = ${channel}`;
  }
  return batch.map((p) => results.get(p)!);
}

/** Positions of the keys used in a channel within the idempotency window. Takes the channel's row lock first. */
async function knownKeys(tx: TransactionSql, channel: string, keys: string[], now: number): Promise<Map<string, KeyedPosition>> {
  await tx`INSERT INTO stream_meta (channel, epoch, top_offset, ttl_ms) VALUES (${channel}, ${newEpoch()}, 0, 0)
           ON CONFLICT (channel) DO UPDATE SET top_offset = stream_meta.top_offset`;
  const rows = await tx<{ key: string; offset: string; epoch: string; time: string }[]>`
    SELECT key, "offset", epoch, time FROM idempotency_keys
    WHERE channel = ${channel} AND key = ANY(${keys}) AND time > ${now - IDEMPOTENCY_WINDOW_MS}`;
  return new Map(rows.map((r) => [r.key, { offset: Number(r.offset), epoch: r.epoch, time: Number(r.time) }]));
}

async function selectMeta(sql: Sql | TransactionSql, channel: string): Promise<MetaRow | undefined> {
  const [row] = await sql<{ epoch: string; top_offset: string; ttl_ms: string }[]>`
    SELECT epoch, top_offset, ttl_ms FROM stream_meta WHERE channel = ${channel}`;
  return row && { epoch: row.epoch, top: Number(row.top_offset), ttlMs: Number(row.ttl_ms) };
}

/** First offset of a channel that is retained and not expired. */
async function firstLive(tx: TransactionSql, channel: string, minTime: number | null): Promise<number | null> {
  const [row] = await tx<{ offset: string }[]>`
    SELECT "offset" FROM publications
    WHERE channel = ${channel} AND (${minTime}::bigint IS NULL OR time >= ${minTime}::bigint)
    ORDER BY "offset" LIMIT 1`;
  return row ? Number(row.offset) : null;
}

interface RowRange {
  /** Exclusive bound: rows after it (forward) or before it (reverse). */
  from: number;
  reverse: boolean;
  /** Rows older than this are expired; null: no TTL. */
  minTime: number | null;
  /** null: no limit. */
  limit: number | null;
  maxBytes: number | undefined;
}

/**
 * A range of rows in page order. With a byte bound, only the rows that start
 * within it (the page plus at most one) leave the database; the exact cut is
 * `takeWithinBytes`, applied by the caller.
 */
async function readRows(tx: TransactionSql, channel: string, r: RowRange): Promise<StoredRow[]> {
  const direction = r.reverse ? tx`"offset" < ${r.from} ORDER BY "offset" DESC` : tx`"offset" > ${r.from} ORDER BY "offset" ASC`;
  const window = r.reverse ? tx`ORDER BY "offset" DESC` : tx`ORDER BY "offset" ASC`;
  const rows = await tx<{ offset: string; data: string; info: string | null; tags: string | null; time: string }[]>`
    SELECT "offset", data, info, tags, time FROM (
      SELECT "offset", data, info, tags, time,
             sum(octet_length(data) + coalesce(octet_length(info), 0) + coalesce(octet_length(tags), 0))
               OVER (${window} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS bytes_before
      FROM (
        SELECT "offset", data, info, tags, time FROM publications
        WHERE channel = ${channel} AND (${r.minTime}::bigint IS NULL OR time >= ${r.minTime}::bigint) AND ${direction}
        LIMIT ${r.limit}
      ) page
    ) weighed
    WHERE ${r.maxBytes ?? null}::bigint IS NULL OR bytes_before IS NULL OR bytes_before <= ${r.maxBytes ?? null}::bigint
    ${window}`;
  return rows.map((row) => ({ ...row, offset: Number(row.offset), time: Number(row.time) }));
}
