/**
 * `parley admin create USER` and `parley admin reset-password USER`:
 * account recovery and set-up from the server's machine, on the configured
 * account store (`<dataDir>/accounts.db`, or PostgreSQL with `postgresUrl`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountStore } from '../accounts/account-store.js';
import { hashPassword, passwordProblem } from '../accounts/password.js';
import { PostgresAccountStore } from '../accounts/postgres-account-store.js';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../accounts/sqlite-account-store.js';
import { checkUsername } from '../accounts/username.js';
import { randomUserId } from '../chat/names.js';
import { loadConfig } from '../config/schema.js';
import { createPostgresClient } from '../services/postgres-client.js';
import { splitFlags, UsageError } from './command-flags.js';
import { readNewPassword } from './password-input.js';

/** `parley admin create|reset-password USER [...]`. */
export async function adminCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'create') return createAccountCommand(rest);
  if (action === 'reset-password') return resetPasswordCommand(rest);
  throw new UsageError(action === undefined ? 'admin needs a command: create or reset-password' : `unknown admin command "${action}"`);
}

/** `parley admin create USER [--admin] [--display-name NAME] [--password-stdin]`. */
async function createAccountCommand(argv: readonly string[]): Promise<number> {
  const [given, rest] = usernameOf(argv, 'create');
  const flags = splitFlags(rest, { values: ['--display-name'], switches: ['--admin', '--password-stdin'] });
  const configFlags = flags.config;
  const checked = checkUsername(given);
  if (!checked.ok) throw new UsageError(checked.problem);
  const displayName = (flags.own.get('--display-name') as string | undefined) ?? checked.username;
  const password = await newPassword(flags.own.has('--password-stdin'), checked.username);
  return withAccounts(configFlags, async (accounts) => {
    const now = Date.now();
    const created = await accounts.createAccount({ id: randomUserId('u_'), username: checked.username, displayName, passwordHash: await hashPassword(password), now });
    if (!created.ok) {
      process.stderr.write(`parley: ${created.reason === 'username-taken' ? `the username ${checked.username} (or one that looks like it) is taken` : 'the account could not be created'}\n`);
      return 1;
    }
    let { role } = created.account;
    if (flags.own.has('--admin') && role !== 'admin') {
      await accounts.setRole(created.account.id, 'admin');
      await accounts.appendAudit({ at: Date.now(), actor: '', action: 'account.role', target: created.account.id, detail: 'admin, from the command line' });
      role = 'admin';
    }
    process.stdout.write(`parley: created the account ${checked.username} (${role})\n`);
    return 0;
  });
}

/** `parley admin reset-password USER [--password-stdin]`: sets a new password and signs the account out everywhere. */
async function resetPasswordCommand(argv: readonly string[]): Promise<number> {
  const [username, rest] = usernameOf(argv, 'reset-password');
  const flags = splitFlags(rest, { switches: ['--password-stdin'] });
  const configFlags = flags.config;
  const password = await newPassword(flags.own.has('--password-stdin'), username);
  return withAccounts(configFlags, async (accounts) => {
    const account = await accounts.findByUsername(username);
    if (!account) {
      process.stderr.write(`parley: there is no account named ${username}\n`);
      return 1;
    }
    await accounts.setPassword(account.id, await hashPassword(password), Date.now());
    const ended = await accounts.revokeAllSessions(account.id);
    await accounts.appendAudit({ at: Date.now(), actor: '', action: 'account.password-reset', target: account.id, detail: 'from the command line' });
    process.stdout.write(`parley: set a new password for ${account.username}; signed out of ${ended} device${ended === 1 ? '' : 's'}\n`);
    return 0;
  });
}

/** The USER argument, which comes first, and the flags after it. */
function usernameOf(args: readonly string[], command: string): [string, string[]] {
  const [username, ...rest] = args;
  if (username === undefined || username.startsWith('-')) throw new UsageError(`a username is required: parley admin ${command} USER`);
  return [username, rest];
}

async function newPassword(fromStdin: boolean, username: string): Promise<string> {
  const password = await readNewPassword({ fromStdin, username });
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(problem);
  return password;
}

/** Runs `fn` on the configured account store, open, and closes it (and its database client) after. */
async function withAccounts(configFlags: string[], fn: (accounts: AccountStore) => Promise<number>): Promise<number> {
  const config = await loadConfig({ argv: configFlags });
  const sql = config.postgresUrl === '' ? undefined : createPostgresClient(config.postgresUrl, { maxConnections: 1 });
  if (!sql) mkdirSync(config.dataDir, { recursive: true });
  const accounts = sql ? new PostgresAccountStore({ sql }) : new SqliteAccountStore({ path: join(config.dataDir, ACCOUNTS_DB_FILE) });
  try {
    await accounts.open();
    return await fn(accounts);
  } catch (error) {
    // Store errors name the file or the server and the failing statement, never a password.
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await accounts.close();
    await sql?.end({ timeout: 5 });
  }
}
