/**
 * Opening one of Parley's SQLite files: WAL, `synchronous = FULL` (a commit
 * is on disk when it returns), foreign keys enforced, and a schema
 * versioned by `PRAGMA user_version`.
 */
import Database from 'better-sqlite3';

/** What {@link openSqliteFile} opens. */
export interface SqliteFileOptions {
  /** The database file; its directory must exist. */
  path: string;
  /** How long a write waits for a lock held by another connection before failing. */
  busyTimeoutMs: number;
  /** Entry `i` takes the file from `user_version` i to i + 1. Append new entries, never edit applied ones. */
  migrations: readonly string[];
  /** Names the file in errors, e.g. "accounts database". */
  what: string;
}

/**
 * Opens and migrates the file, then runs `prepare` on it (preparing
 * statements, loading caches); the connection is closed again when any
 * step fails.
 * @throws Error when the file records a newer schema version than `migrations` know.
 */
export function openSqliteFile<T>(options: SqliteFileOptions, prepare: (db: Database.Database) => T): { db: Database.Database; prepared: T } {
  const db = new Database(options.path, { timeout: options.busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    migrateSqlite(db, options.migrations, options.what);
    return { db, prepared: prepare(db) };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Brings a database to the newest schema, one transaction per step. */
function migrateSqlite(db: Database.Database, migrations: readonly string[], what: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw new Error(`${what} schema version ${version} is newer than the supported ${migrations.length}`);
  }
  for (let v = version; v < migrations.length; v++) {
    const step = migrations[v]!;
    db.transaction(() => {
      db.exec(step);
      // user_version is stored in the file header, so it commits or rolls back with the step.
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
