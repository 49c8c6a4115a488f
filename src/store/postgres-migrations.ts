/**
 * Versioned schemas on PostgreSQL. Each component (the stream store, the
 * chat store, …) owns a list of migrations, tracked by component name in
 * one `schema_migrations` table. Several nodes may start at once on one
 * database: every step runs in its own transaction under one
 * transaction-level advisory lock, re-reads the applied version under that
 * lock, and so each migration is applied (and recorded) exactly once.
 */
import type { Sql } from 'postgres';

/** A schema step: its version (1, 2, …, dense within its component) and the statements it runs. */
export interface Migration {
  version: number;
  statements: readonly string[];
}

/** The schema of one component: its name in `schema_migrations` and its migrations in order. */
export interface SchemaComponent {
  name: string;
  /** Append new entries, never edit applied ones. */
  migrations: readonly Migration[];
}

/**
 * Key of the advisory lock every migrator takes (any 64-bit value, fixed so
 * that all Parley nodes agree; derived from the ASCII of "parley01").
 */
export const MIGRATION_LOCK_KEY = 0x7061726c65793031n;

/** The stream store's tables (`PostgresStore`). */
export const STREAM_SCHEMA: SchemaComponent = {
  name: 'stream',
  migrations: [
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
  ],
};

/**
 * Brings each component's schema to its newest version, in the order
 * given. Idempotent and safe to run from several processes at once.
 * @returns how many migrations this call applied (0 when all were already there).
 * @throws Error when the database records a version of a component newer than this code knows.
 */
export async function migrate(sql: Sql, components: readonly SchemaComponent[]): Promise<number> {
  let applied = 0;
  for (const component of components) {
    for (;;) {
      const step = await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
        await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
          component  text NOT NULL,
          version    integer NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (component, version)
        )`;
        const [row] = await tx<{ version: number | null }[]>`
          SELECT max(version) AS version FROM schema_migrations WHERE component = ${component.name}`;
        const current = row?.version ?? 0;
        const known = component.migrations.length;
        if (current > known) {
          throw new Error(`database ${component.name} schema version ${current} is newer than the supported ${known}`);
        }
        const next = component.migrations[current];
        if (!next) return false;
        for (const statement of next.statements) await tx.unsafe(statement);
        await tx`INSERT INTO schema_migrations (component, version) VALUES (${component.name}, ${next.version})`;
        return true;
      });
      if (!step) break;
      applied++;
    }
  }
  return applied;
}
