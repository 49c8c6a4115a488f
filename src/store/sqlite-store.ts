import type Database from 'better-sqlite3';
import type { PublishRequest, StreamPosition } from '../protocol/types.js';
import { RecentKeys } from './recent-keys.js';
import { openSqliteFile } from './sqlite-file.js';
import {
  IDEMPOTENCY_WINDOW_MS,
  type AppendedPublication,
  type HistoryPage,
  type HistoryQuery,
  type Retention,
  type Store,
} from './store.js';
import { StoreLifecycle } from './store-lifecycle.js';
import { checkSince, decodeRow, encodeRow, newEpoch, publicationBytes, takeWithinBytes, toPublication, validateLimit, validateRetention, type StoredRow } from './stream-rules.js';

/** Where {@link SqliteStore} reports failures that no caller is waiting on, or that affect many. */
export interface SqliteStoreLogger {
  error(obj: object, msg: string): void;
}

/** Options for {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; its directory must exist. */
  path: string;
  logger?: SqliteStoreLogger;
  /** How long a write waits for a lock held by another connection before failing. @default 5000 */
  busyTimeoutMs?: number;
  /** How often expired publications are deleted. @default 60000 */
  sweepIntervalMs?: number;
  /**
   * Least time between the starts of two batch commits (group commit). An
   * append after a quiet spell commits at the end of its event-loop turn;
   * under load, appends gather for up to this long, so one fsync and one
   * fan-out serve more of them and a subscriber gets several publications
   * in one write. @default 5
   */
  commitIntervalMs?: number;
}

/**
 * Schema migrations; entry `i` takes the database from `user_version` i to
 * i + 1. Append new entries, never edit applied ones.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE channels (
     name   TEXT PRIMARY KEY NOT NULL,
     epoch  TEXT NOT NULL,
     top    INTEGER NOT NULL DEFAULT 0,
     ttl_ms INTEGER NOT NULL DEFAULT 0 -- TTL of the last committed append; 0 = none
   ) WITHOUT ROWID;
   -- Covers the TTL sweep's channel scan (the key, name, is part of every index entry).
   CREATE INDEX channels_with_ttl ON channels (ttl_ms) WHERE ttl_ms > 0;
   CREATE TABLE publications (
     channel  TEXT NOT NULL,
     "offset" INTEGER NOT NULL,
     data     TEXT NOT NULL,    -- JSON text, verbatim
     info     TEXT,             -- JSON or NULL
     tags     TEXT,             -- JSON or NULL
     time     INTEGER NOT NULL, -- ms since the Unix epoch
     PRIMARY KEY (channel, "offset")
   ) WITHOUT ROWID;
   CREATE INDEX publications_by_time ON publications (channel, time);`,
  // Idempotency keys of recent appends (see IDEMPOTENCY_WINDOW_MS), committed with their publications.
  `CREATE TABLE idempotency_keys (
     channel  TEXT NOT NULL,
     key      TEXT NOT NULL,
     "offset" INTEGER NOT NULL,
     epoch    TEXT NOT NULL,
     time     INTEGER NOT NULL,
     PRIMARY KEY (channel, key)
   ) WITHOUT ROWID;
   CREATE INDEX idempotency_keys_by_time ON idempotency_keys (time);`,
];

/** Cursors kept at most; past this the cache is dropped after a flush and refilled on demand. */
const MAX_CACHED_CURSORS = 10_000;
/** `time >= NO_TTL_MIN_TIME` holds for every row: the filter used when a channel has no TTL. */
const NO_TTL_MIN_TIME = Number.MIN_SAFE_INTEGER;

interface ChannelRow {
  epoch: string;
  top: number;
  ttl_ms: number;
}


/** An append whose offsets are assigned and whose rows wait for the next batch commit. */
interface PendingAppend {
  channel: string;
  pubs: AppendedPublication[];
  rows: StoredRow[];
  /** Idempotency keys first used by this append, committed with its rows. */
  keys: Array<{ key: string; offset: number; epoch: string; time: number }>;
  retention: Retention;
  /** The channel's last offset once this append is applied. */
  top: number;
  resolve(pubs: AppendedPublication[]): void;
  reject(err: Error): void;
}

/** Next offsets to hand out: the channel's top including queued appends. */
interface Cursor {
  epoch: string;
  top: number;
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * {@link Store} in one SQLite file (WAL, `synchronous = FULL`).
 *
 * Appends get their offsets when `append` is called and are committed
 * together, all channels in one transaction per event-loop turn, so many
 * publishers share each fsync. `read` and `position` see committed data
 * only: an append still queued is not visible to them (nor counted in the
 * top); its batch commits just before its promise resolves. Expired rows
 * are hidden on read and deleted by a periodic sweep.
 *
 * One database file must be served by one `SqliteStore` at a time: offsets
 * are handed out from an in-process cache of each channel's top.
 */
export class SqliteStore implements Store {
  private readonly busyTimeoutMs: number;
  private readonly lifecycle = new StoreLifecycle();
  private db: Database.Database | undefined;
  private stmts: Statements | undefined;
  private readonly cursors = new Map<string, Cursor>();
  private pending: PendingAppend[] = [];
  /** The pending batch's commit, scheduled as an immediate or (under load) a timeout. */
  private flushTimer: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | undefined;
  private readonly commitIntervalMs: number;
  /** When the last batch commit started (performance.now()). */
  private lastCommitAt = -Infinity;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Every unexpired key in the table, and the keys of queued appends: this store is the file's only writer. */
  private readonly keys = new RecentKeys();

  constructor(private readonly options: SqliteStoreOptions) {
    this.busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    this.commitIntervalMs = Math.max(0, options.commitIntervalMs ?? 5);
  }

  async open(): Promise<void> {
    if (!this.lifecycle.beginOpen()) return;
    const { db, prepared } = openSqliteFile({ path: this.options.path, busyTimeoutMs: this.busyTimeoutMs, migrations: MIGRATIONS, what: 'database' }, (db) => {
      const stmts = prepareStatements(db);
      for (const row of stmts.keysSince.all(Date.now() - IDEMPOTENCY_WINDOW_MS)) this.keys.set(row.channel, row.key, row);
      return stmts;
    });
    this.stmts = prepared;
    this.db = db;
    this.lifecycle.opened();
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  async append(channel: string, messages: PublishRequest[], retention: Retention): Promise<AppendedPublication[]> {
    this.assertOpen();
    validateRetention(retention);
    // Serialize before taking offsets, so a value that cannot be stored
    // fails this call alone and consumes no offset.
    const encoded = messages.map(encodeRow);
    const cursor = this.cursor(channel);
    const time = Date.now();
    const pubs: AppendedPublication[] = [];
    const rows: StoredRow[] = [];
    const keys: PendingAppend['keys'] = [];
    messages.forEach((m, i) => {
      const key = m.idempotencyKey;
      const first = key === undefined ? undefined : this.keys.get(channel, key, time);
      if (first) {
        pubs.push({ ...toPublication(m, first.offset, first.epoch, first.time), replayed: true });
        return;
      }
      const offset = ++cursor.top;
      pubs.push(toPublication(m, offset, cursor.epoch, time));
      rows.push({ offset, time, ...encoded[i]! });
      if (key !== undefined) {
        const used = { key, offset, epoch: cursor.epoch, time };
        keys.push(used);
        this.keys.set(channel, key, used);
      }
    });
    const top = cursor.top;
    // Even an append that stores nothing new waits its turn, so that it resolves after the append it replays.
    return new Promise<AppendedPublication[]>((resolve, reject) => {
      this.pending.push({ channel, pubs, rows, keys, retention, top, resolve, reject });
      this.flushTimer ??= this.scheduleFlush();
    });
  }

  async read(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const s = this.assertOpen();
    validateLimit(query.limit);
    const row = this.channelRow(channel);
    const position: StreamPosition = { offset: row.top, epoch: row.epoch };
    const minTime = row.ttl_ms > 0 ? Date.now() - row.ttl_ms : NO_TTL_MIN_TIME;
    const { since, reverse = false, limit } = query;
    if (since) checkSince(since, position, reverse, () => s.firstLive.get(channel, minTime) ?? row.top + 1);
    if (limit === 0) return { publications: [], position };
    // SQLite reads a negative LIMIT as "no limit".
    const sqlLimit = limit < 0 ? -1 : limit;
    const statement = reverse ? s.readBefore : s.readAfter;
    const from = reverse ? (since ? since.offset : row.top + 1) : since ? since.offset : 0;
    // With a byte bound, rows are read one by one and reading stops at the bound.
    const found = query.maxBytes === undefined
      ? statement.all(channel, from, minTime, sqlLimit)
      : takeWithinBytes(statement.iterate(channel, from, minTime, sqlLimit), query.maxBytes, (r) => publicationBytes(r.data, r.info, r.tags));
    return { publications: found.map((r) => decodeRow(r, row.epoch)), position };
  }

  async position(channel: string): Promise<StreamPosition> {
    this.assertOpen();
    const row = this.channelRow(channel);
    return { offset: row.top, epoch: row.epoch };
  }

  async removeHistory(channel: string): Promise<void> {
    const s = this.assertOpen();
    // Queued appends were called first: commit them under the old epoch so
    // the removal covers them and later appends get the new epoch.
    this.flush();
    const row = this.channelRow(channel);
    let epoch = newEpoch();
    while (epoch === row.epoch) epoch = newEpoch();
    s.resetHistory.immediate(channel, epoch);
    this.keys.forget(channel);
    const cursor = this.cursors.get(channel);
    if (cursor) cursor.epoch = epoch;
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    clearInterval(this.sweepTimer);
    this.flush();
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
    this.cursors.clear();
  }

  private assertOpen(): Statements {
    this.lifecycle.assertOpen();
    if (!this.stmts) throw new Error('store is closed');
    return this.stmts;
  }

  /** The committed row of a channel, creating (and committing) a fresh epoch for a new one. */
  private channelRow(channel: string): ChannelRow {
    const s = this.assertOpen();
    const row = s.getChannel.get(channel);
    if (row) return row;
    const fresh: ChannelRow = { epoch: newEpoch(), top: 0, ttl_ms: 0 };
    s.insertChannel.run(channel, fresh.epoch);
    return fresh;
  }

  private cursor(channel: string): Cursor {
    let cursor = this.cursors.get(channel);
    if (!cursor) {
      const row = this.channelRow(channel);
      cursor = { epoch: row.epoch, top: row.top };
      this.cursors.set(channel, cursor);
    }
    return cursor;
  }

  /**
   * Commits every queued append in one transaction, then settles their
   * promises in call order. On failure all of them reject and the cursors
   * of their channels are dropped, so offsets are reloaded from what was
   * committed and the uncommitted ones are handed out again.
   */
  private scheduleFlush(): { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } {
    const wait = this.lastCommitAt + this.commitIntervalMs - performance.now();
    return wait >= 1 ? { timeout: setTimeout(() => this.flush(), wait) } : { immediate: setImmediate(() => this.flush()) };
  }

  private flush(): void {
    const timer = this.flushTimer;
    if (timer && 'timeout' in timer) clearTimeout(timer.timeout);
    else if (timer) clearImmediate(timer.immediate);
    this.flushTimer = undefined;
    const batch = this.pending;
    if (batch.length === 0 || !this.stmts) return;
    this.pending = [];
    this.lastCommitAt = performance.now();
    try {
      this.stmts.commitBatch.immediate(batch, Date.now());
    } catch (err) {
      const channels = [...new Set(batch.map((p) => p.channel))];
      for (const channel of channels) this.cursors.delete(channel);
      for (const p of batch) for (const { key } of p.keys) this.keys.delete(p.channel, key);
      const error = err instanceof Error ? err : new Error(String(err));
      this.options.logger?.error({ err: error, channels, appends: batch.length }, 'store: batch commit failed');
      for (const p of batch) p.reject(error);
      return;
    }
    // Nothing is queued now, so every cursor can be rebuilt from the database.
    if (this.cursors.size > MAX_CACHED_CURSORS) this.cursors.clear();
    for (const p of batch) p.resolve(p.pubs);
  }

  private sweep(): void {
    if (!this.lifecycle.isOpen || !this.stmts) return;
    try {
      const now = Date.now();
      this.stmts.sweep.immediate(now);
      this.keys.prune(now);
    } catch (err) {
      this.options.logger?.error({ err }, 'store: TTL sweep failed');
    }
  }
}

function prepareStatements(db: Database.Database) {
  const getChannel = db.prepare<[string], ChannelRow>('SELECT epoch, top, ttl_ms FROM channels WHERE name = ?');
  const insertChannel = db.prepare<[string, string]>(
    'INSERT INTO channels (name, epoch, top, ttl_ms) VALUES (?, ?, 0, 0)',
  );
  const updateChannel = db.prepare<[number, number, string]>('UPDATE channels SET top = ?, ttl_ms = ? WHERE name = ?');
  const setEpoch = db.prepare<[string, string]>('UPDATE channels SET epoch = ? WHERE name = ?');
  const insertPublication = db.prepare<[string, number, string, string | null, string | null, number]>(
    'INSERT INTO publications (channel, "offset", data, info, tags, time) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const deleteUpTo = db.prepare<[string, number]>('DELETE FROM publications WHERE channel = ? AND "offset" <= ?');
  const deleteOlder = db.prepare<[string, number]>('DELETE FROM publications WHERE channel = ? AND time < ?');
  const deleteAll = db.prepare<[string]>('DELETE FROM publications WHERE channel = ?');
  const insertKey = db.prepare<[string, string, number, string, number]>(
    'INSERT OR REPLACE INTO idempotency_keys (channel, key, "offset", epoch, time) VALUES (?, ?, ?, ?, ?)',
  );
  const deleteKeys = db.prepare<[string]>('DELETE FROM idempotency_keys WHERE channel = ?');
  const deleteExpiredKeys = db.prepare<[number]>('DELETE FROM idempotency_keys WHERE time <= ?');
  const ttlChannels = db.prepare<[], { name: string; ttl_ms: number }>(
    'SELECT name, ttl_ms FROM channels WHERE ttl_ms > 0',
  );
  const columns = 'SELECT "offset", data, info, tags, time FROM publications';

  /** Applies one batch: rows in offset order, then each channel's retention and new top. */
  const commitBatch = db.transaction((batch: PendingAppend[], now: number) => {
    const byChannel = new Map<string, PendingAppend[]>();
    for (const p of batch) {
      const list = byChannel.get(p.channel);
      if (list) list.push(p);
      else byChannel.set(p.channel, [p]);
    }
    for (const [channel, appends] of byChannel) {
      const row = getChannel.get(channel);
      if (!row) throw new Error(`channel ${channel} has no stream row`);
      let last = row.top;
      // Retention as if each append were applied on its own: keep what every
      // append's size allows, and expire under every TTL in force meanwhile
      // (so a longer TTL never brings back what a shorter one hid).
      let trimUpTo = 0;
      let shortestTtl = row.ttl_ms;
      for (const p of appends) {
        for (const r of p.rows) {
          // Guards "offsets go up by exactly 1" against a stale cursor.
          if (r.offset !== last + 1) throw new Error(`offset ${r.offset} of ${channel} does not follow ${last}`);
          insertPublication.run(channel, r.offset, r.data, r.info, r.tags, r.time);
          last = r.offset;
        }
        for (const k of p.keys) insertKey.run(channel, k.key, k.offset, k.epoch, k.time);
        trimUpTo = Math.max(trimUpTo, p.top - p.retention.size);
        if (p.retention.ttlMs > 0 && (shortestTtl <= 0 || p.retention.ttlMs < shortestTtl)) {
          shortestTtl = p.retention.ttlMs;
        }
      }
      if (trimUpTo > 0) deleteUpTo.run(channel, trimUpTo);
      if (shortestTtl > 0) deleteOlder.run(channel, now - shortestTtl);
      updateChannel.run(last, appends.at(-1)!.retention.ttlMs, channel);
    }
  });

  return {
    getChannel,
    insertChannel,
    insertPublication,
    commitBatch,
    /** First offset that is retained and not expired. */
    firstLive: db
      .prepare<[string, number], number>(`SELECT "offset" FROM publications WHERE channel = ? AND time >= ? ORDER BY "offset" LIMIT 1`)
      .pluck(),
    /** (channel, after offset, min time, limit): ascending. */
    readAfter: db.prepare<[string, number, number, number], StoredRow>(
      `${columns} WHERE channel = ? AND "offset" > ? AND time >= ? ORDER BY "offset" ASC LIMIT ?`,
    ),
    /** (channel, before offset, min time, limit): newest first. */
    readBefore: db.prepare<[string, number, number, number], StoredRow>(
      `${columns} WHERE channel = ? AND "offset" < ? AND time >= ? ORDER BY "offset" DESC LIMIT ?`,
    ),
    keysSince: db.prepare<[number], { channel: string; key: string; offset: number; epoch: string; time: number }>(
      'SELECT channel, key, "offset" AS offset, epoch, time FROM idempotency_keys WHERE time > ? ORDER BY time',
    ),
    resetHistory: db.transaction((channel: string, epoch: string) => {
      deleteAll.run(channel);
      deleteKeys.run(channel);
      setEpoch.run(epoch, channel);
    }),
    sweep: db.transaction((now: number) => {
      for (const c of ttlChannels.all()) deleteOlder.run(c.name, now - c.ttl_ms);
      deleteExpiredKeys.run(now - IDEMPOTENCY_WINDOW_MS);
    }),
  };
}
