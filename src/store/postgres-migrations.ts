/**
 * Versioned schema of the PostgreSQL store. Several nodes may start at once
 * on one database: every step runs in its own transaction under one
 * transaction-level advisory lock, re-reads the applied version under that
 * lock, and so each migration is applied (and recorded) exactly once.
 */
import type { Sql } from 'postgres';

/** A schema step: its version (1, 2, …, dense) and the statements it runs. */
export interface Migration {
  version: number;
  statements: readonly string[];
}

/**
 * Key of the advisory lock every migrator takes (any 64-bit value, fixed so
 * that all Parley nodes agree; derived from the ASCII of "parley01").
 */
export const MIGRATION_LOCK_KEY = 0x7061726c65793031n;

/** Append new entries, never edit applied ones. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE stream_meta (
         channel    text PRIMARY KEY,
         epoch      text NOT NULL,
         top_offset bigint NOT NULL DEFAULT 0,
         ttl_ms     bigint NOT NULL DEFAULT 0 -- TTL of the last committed append; 0 = none
       )`,
      // The TTL sweep visits only channels that have a TTL.
      `CREATE INDEX stream_meta_with_ttl ON stream_meta (channel) WHERE ttl_ms > 0`,
      `CREATE TABLE publications (
         channel  text NOT NULL,
         "offset" bigint NOT NULL,
         data     text NOT NULL,   -- JSON text, verbatim
         info     text,            -- JSON or NULL
         tags     text,            -- JSON or NULL
         time     bigint NOT NULL, -- ms since the Unix epoch
         PRIMARY KEY (channel, "offset")
       )`,
      `CREATE INDEX publications_by_time ON publications (channel, time)`,
    ],
  },
  {
    version: 2,
    statements: [
      // Idempotency keys of recent appends (IDEMPOTENCY_WINDOW_MS), written in the append's transaction.
      `CREATE TABLE idempotency_keys (
         channel  text NOT NULL,
         key      text NOT NULL,
         "offset" bigint NOT NULL,
         epoch    text NOT NULL,
         time     bigint NOT NULL,
         PRIMARY KEY (channel, key)
       )`,
      `CREATE INDEX idempotency_keys_by_time ON idempotency_keys (time)`,
    ],
  },
];

/**
 * Brings the database to the newest schema version. Idempotent and safe to
 * run from several processes at once.
 * @throws Error when the database records a version newer than this code knows.
 */
export async function migrate(sql: Sql): Promise<void> {
  for (;;) {
    const applied = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
      const [row] = await tx<{ version: number | null }[]>`SELECT max(version) AS version FROM schema_migrations`;
      const current = row?.version ?? 0;
      if (current > MIGRATIONS.length) {
        throw new Error(`database schema version ${current} is newer than the supported ${MIGRATIONS.length}`);
      }
      const next = MIGRATIONS[current];
      if (!next) return false;
      for (const statement of next.statements) await tx.unsafe(statement);
      await tx`INSERT INTO schema_migrations (version) VALUES (${next.version})`;
      return true;
    });
    if (!applied) return;
  }
}
