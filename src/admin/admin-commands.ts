/**
 * `parley migrate` and `parley import`: operator commands on the PostgreSQL
 * database of a cluster, named by `postgresUrl` (flag `--postgres-url`, env
 * `PARLEY_POSTGRES_URL`, or the config file). The URL carries a password:
 * it is never printed.
 */
import { resolve } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { loadConfig } from '../config/schema.js';
import { migrate } from '../store/postgres-migrations.js';
import { splitFlags, UsageError } from './command-flags.js';
import { importDataDir, ImportRefusedError, type ImportCounts } from './data-import.js';
import { POSTGRES_SCHEMAS } from './postgres-schemas.js';

/** `parley migrate [options]`: brings the database's schema up to date, alone (no server). */
export async function migrateCommand(argv: readonly string[]): Promise<number> {
  const config = await loadConfig({ argv });
  return withPostgres(config.postgresUrl, async (sql) => {
    const applied = await migrate(sql, POSTGRES_SCHEMAS);
    process.stdout.write(
      applied === 0 ? 'parley: the PostgreSQL schema was already up to date\n' : `parley: applied ${applied} migration(s); the PostgreSQL schema is up to date\n`,
    );
    return 0;
  });
}

/** `parley import [--from DIR] [--force] [options]`: copies a single-node data dir into PostgreSQL. */
export async function importCommand(argv: readonly string[]): Promise<number> {
  const flags = splitFlags(argv, { values: ['--from'], switches: ['--force'] });
  const config = await loadConfig({ argv: flags.config });
  const fromFlag = flags.own.get('--from');
  const from = typeof fromFlag === 'string' ? resolve(fromFlag) : config.dataDir;
  return withPostgres(config.postgresUrl, async (sql) => {
    let result;
    try {
      result = await importDataDir(sql, { from, force: flags.own.get('--force') === true });
    } catch (error) {
      if (!(error instanceof ImportRefusedError)) throw error;
      process.stderr.write(`parley: nothing imported: ${error.message}\n`);
      return 1;
    }
    if (result.status === 'already-imported') {
      process.stdout.write(`parley: nothing to do: ${from} was already imported (${result.importedAt.toISOString()})\n${countLines(result.counts)}`);
    } else {
      process.stdout.write(`parley: imported ${from} into PostgreSQL\n${countLines(result.counts)}`);
    }
    return 0;
  });
}

const COUNT_LABELS: Record<keyof ImportCounts, string> = {
  channels: 'channels',
  publications: 'publications',
  users: 'users',
  firstVisits: 'first visits',
  rooms: 'rooms',
  members: 'room members',
  dms: 'direct conversations',
  messages: 'messages',
  reactions: 'reactions',
  readPositions: 'read positions',
  guestSessions: 'guest sessions',
  accounts: 'accounts',
  accountSessions: 'account sessions',
  invites: 'invitations',
  auditEntries: 'audit log entries',
};

function countLines(counts: ImportCounts): string {
  return (Object.keys(COUNT_LABELS) as (keyof ImportCounts)[]).map((key) => `  ${COUNT_LABELS[key].padEnd(22)} ${counts[key]}\n`).join('');
}

/** Runs `fn` with a client on the configured database, ending it after; a database failure is one line, exit 1. */
async function withPostgres(url: string, fn: (sql: Sql) => Promise<number>): Promise<number> {
  if (url === '') throw new UsageError('no PostgreSQL given: use --postgres-url, PARLEY_POSTGRES_URL or postgresUrl in the config file');
  const sql = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    return await fn(sql);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // postgres.js messages name the server and the failing statement, never the password.
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
