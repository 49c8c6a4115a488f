/** Versioned schemas in one SQLite file, tracked by `PRAGMA user_version`. */
import type Database from 'better-sqlite3';

/**
 * Brings a database to the newest schema, one transaction per step.
 * Entry `i` of `migrations` takes it from `user_version` i to i + 1.
 * @param what names the database in the error, e.g. "accounts database".
 * @throws Error when the file records a newer version than `migrations` know.
 */
export function migrateSqlite(db: Database.Database, migrations: readonly string[], what: string): void {
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
