/** Throwaway SQLite files for store tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A path named `name` in a fresh directory (no file there yet); `cleanup` removes the directory. */
export function tempDbFile(name: string): { file: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-db-'));
  return { file: join(dir, name), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates `file` as a database that claims schema `version`, as a newer release would leave it. */
export function writeSchemaVersion(file: string, version: number): void {
  const db = new Database(file);
  try {
    db.pragma(`user_version = ${version}`);
  } finally {
    db.close();
  }
}

/** The file's journal mode and schema version, read without changing it. */
export function fileSettings(file: string): { journalMode: unknown; userVersion: unknown; tables: unknown[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      journalMode: db.pragma('journal_mode', { simple: true }),
      userVersion: db.pragma('user_version', { simple: true }),
      tables: db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(),
    };
  } finally {
    db.close();
  }
}
