import type Database from 'better-sqlite3';
import { openSqliteFile } from '../store/sqlite-file.js';
import { StoreLifecycle } from '../store/store-lifecycle.js';
import {
  accountPage,
  checkDigest,
  checkMaxUses,
  newSessionId,
  pageLimit,
  removesLastAdmin,
  searchTerms,
  toAccount,
  toInvite,
  toSession,
  type AccountRow,
  type InviteRow,
  type SessionRow,
} from './account-rows.js';
import {
  inviteRefusal,
  type Account,
  type AccountChange,
  type AccountPage,
  type AccountQuery,
  type AccountRole,
  type AccountStanding,
  type AccountStore,
  type CreateAccountResult,
  type Invite,
  type NewAccount,
  type NewInvite,
  type NewSession,
  type RedeemResult,
  type Session,
} from './account-store.js';
import { auditPageOf, auditPageSize, checkAuditEntry, toAuditEntry, type AuditEntry, type AuditPage, type AuditRow, type NewAuditEntry } from './audit-log.js';
import { usernameKey } from './username.js';

/** The accounts database's file name in the data dir. */
export const ACCOUNTS_DB_FILE = 'accounts.db';

/** Options for {@link SqliteAccountStore}. */
export interface SqliteAccountStoreOptions {
  /** Database file (normally {@link ACCOUNTS_DB_FILE} in the data dir); its directory must exist. */
  path: string;
  /** How long a write waits for a lock held by another connection before failing. @default 5000 */
  busyTimeoutMs?: number;
}

/** Entry `i` takes the file from `user_version` i to i + 1. Append new entries, never edit applied ones. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE account_users (
     id                  TEXT PRIMARY KEY NOT NULL,
     username            TEXT NOT NULL,
     username_key        TEXT NOT NULL UNIQUE,
     display_name        TEXT NOT NULL,
     password_hash       TEXT NOT NULL,
     role                TEXT NOT NULL CHECK (role IN ('admin', 'member')),
     deactivated_at      INTEGER,
     created_at          INTEGER NOT NULL,
     password_changed_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE account_sessions (
     token_hash   TEXT PRIMARY KEY NOT NULL, -- SHA-256 hex of the refresh token
     account_id   TEXT NOT NULL REFERENCES account_users (id),
     device       TEXT NOT NULL,
     created_at   INTEGER NOT NULL,
     last_used_at INTEGER NOT NULL,
     expires_at   INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX account_sessions_by_account ON account_sessions (account_id);
   CREATE TABLE account_invites (
     code_hash  TEXT PRIMARY KEY NOT NULL, -- SHA-256 hex of the invite code
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
     uses       INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;`,
  // AUTOINCREMENT: an id is never reused, so a page cursor never points at a different entry.
  `CREATE TABLE account_audit (
     id      INTEGER PRIMARY KEY AUTOINCREMENT,
     at      INTEGER NOT NULL,
     actor   TEXT NOT NULL,
     action  TEXT NOT NULL,
     target  TEXT,
     channel TEXT,
     detail  TEXT
   );`,
  // Sessions get a short random id of their own (connection tokens and device lists carry it, never the token hash).
  `ALTER TABLE account_sessions ADD COLUMN id TEXT;
   UPDATE account_sessions SET id = lower(hex(randomblob(12)));
   CREATE UNIQUE INDEX account_sessions_by_id ON account_sessions (id);`,
];

type Statements = ReturnType<typeof prepareStatements>;

/**
 * {@link AccountStore} in its own SQLite file (WAL, `synchronous = FULL`).
 * Every call is one synchronous statement or one IMMEDIATE transaction,
 * so calls are serialized by the file's write lock, also against another
 * process that has the file open.
 */
export class SqliteAccountStore implements AccountStore {
  private readonly lifecycle = new StoreLifecycle();
  private db: Database.Database | undefined;
  private stmts: Statements | undefined;

  constructor(private readonly options: SqliteAccountStoreOptions) {}

  async open(): Promise<void> {
    if (!this.lifecycle.beginOpen()) return;
    const busyTimeoutMs = Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 5000));
    const { db, prepared } = openSqliteFile({ path: this.options.path, busyTimeoutMs, migrations: MIGRATIONS, what: 'accounts database' }, prepareStatements);
    this.stmts = prepared;
    this.db = db;
    this.lifecycle.opened();
  }

  async close(): Promise<void> {
    if (!this.lifecycle.close()) return;
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
  }

  async createAccount(account: NewAccount): Promise<CreateAccountResult> {
    const s = this.assertOpen();
    const key = usernameKey(account.username);
    return this.db!.transaction((): CreateAccountResult => {
      if (s.accountById.get(account.id)) return { ok: false, reason: 'id-taken' };
      if (s.accountByKey.get(key)) return { ok: false, reason: 'username-taken' };
      const { id, username, displayName, passwordHash, now, inviteCodeHash } = account;
      if (inviteCodeHash !== undefined) {
        const redeemed = this.redeem(inviteCodeHash, now);
        if (!redeemed.ok) return { ok: false, reason: 'invite', invite: redeemed.reason };
      }
      const role: AccountRole = account.firstMayBeAdmin !== false && s.countAdmins.get() === 0 ? 'admin' : 'member';
      s.insertAccount.run(id, username, key, displayName, passwordHash, role, now, now);
      return { ok: true, account: toAccount(s.accountById.get(id)!) };
    }).immediate();
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = this.assertOpen().accountById.get(id);
    return row && toAccount(row);
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const row = this.assertOpen().accountByKey.get(usernameKey(username));
    return row && toAccount(row);
  }

  async setPassword(id: string, passwordHash: string, now: number): Promise<boolean> {
    return this.assertOpen().setPassword.run(passwordHash, now, id).changes > 0;
  }

  async setRole(id: string, role: AccountRole): Promise<AccountChange> {
    const s = this.assertOpen();
    return this.changeAccount(id, { role }, () => s.setRole.run(role, id));
  }

  async setDeactivated(id: string, deactivated: boolean, now: number): Promise<AccountChange> {
    const s = this.assertOpen();
    return this.changeAccount(id, { deactivated }, () => {
      if (!deactivated) return s.reactivate.run(id);
      s.deactivate.run(now, id);
      s.deleteSessions.run(id, null);
    });
  }

  async countAdmins(): Promise<number> {
    return this.assertOpen().countAdmins.get()!;
  }

  async setDisplayName(id: string, displayName: string): Promise<boolean> {
    return this.assertOpen().setDisplayName.run(displayName, id).changes > 0;
  }

  async listAccounts(query: AccountQuery): Promise<AccountPage> {
    const limit = pageLimit(query.limit);
    const { key, name } = searchTerms(query.search);
    return accountPage(this.assertOpen().listAccounts.all(query.after ?? '', key, name, limit + 1), limit);
  }

  async standing(accountId: string, sessionId: string | undefined, now: number): Promise<AccountStanding> {
    const row = this.assertOpen().standing.get(sessionId ?? null, now, accountId);
    if (!row) return 'not-an-account';
    if (row.deactivated_at !== null) return 'deactivated';
    return sessionId === undefined || row.live ? 'active' : 'session-ended';
  }

  async createSession(session: NewSession): Promise<Session> {
    const { tokenHash, accountId, device, now, expiresAt } = session;
    checkDigest(tokenHash, 'a session token hash');
    const s = this.assertOpen();
    const id = newSessionId();
    s.insertSession.run(id, tokenHash, accountId, device, now, now, expiresAt);
    return { id, tokenHash, accountId, device, createdAt: now, lastUsedAt: now, expiresAt };
  }

  async useSession(tokenHash: string, now: number, slideTo?: number): Promise<{ account: Account; session: Session } | undefined> {
    const s = this.assertOpen();
    return this.db!.transaction(() => {
      const row = s.touchSession.get(now, slideTo ?? 0, tokenHash, now);
      if (!row) {
        s.deleteExpiredSession.run(tokenHash, now);
        return undefined;
      }
      const account = s.accountById.get(row.account_id);
      if (!account || account.deactivated_at !== null) return undefined;
      return { account: toAccount(account), session: toSession(row) };
    }).immediate();
  }

  async listSessions(accountId: string, now: number): Promise<Session[]> {
    return this.assertOpen().sessionsOf.all(accountId, now).map(toSession);
  }

  async revokeSession(tokenHash: string): Promise<boolean> {
    return this.assertOpen().deleteSession.run(tokenHash).changes > 0;
  }

  async revokeSessionById(accountId: string, sessionId: string): Promise<boolean> {
    return this.assertOpen().deleteSessionById.run(sessionId, accountId).changes > 0;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return this.assertOpen().deleteExpiredSessions.run(now).changes;
  }

  async revokeAllSessions(accountId: string, exceptTokenHash?: string): Promise<number> {
    return this.assertOpen().deleteSessions.run(accountId, exceptTokenHash ?? null).changes;
  }

  async createInvite(invite: NewInvite): Promise<Invite> {
    const { codeHash, createdBy, expiresAt, maxUses, now } = invite;
    checkDigest(codeHash, 'an invite code hash');
    checkMaxUses(maxUses);
    this.assertOpen().insertInvite.run(codeHash, createdBy, now, expiresAt, maxUses);
    return { codeHash, createdBy, createdAt: now, expiresAt, maxUses, uses: 0 };
  }

  async redeemInvite(codeHash: string, now: number): Promise<RedeemResult> {
    this.assertOpen();
    return this.db!.transaction(() => this.redeem(codeHash, now)).immediate();
  }

  async listInvites(): Promise<Invite[]> {
    return this.assertOpen().allInvites.all().map(toInvite);
  }

  async revokeInvite(codeHash: string): Promise<boolean> {
    return this.assertOpen().deleteInvite.run(codeHash).changes > 0;
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    checkAuditEntry(entry);
    const { at, actor, action, target, channel, detail } = entry;
    return toAuditEntry(this.assertOpen().insertAudit.get(at, actor, action, target ?? null, channel ?? null, detail ?? null)!);
  }

  async listAudit(options: { before?: number; limit: number }): Promise<AuditPage> {
    const size = auditPageSize(options.limit);
    return auditPageOf(this.assertOpen().auditBefore.all(options.before ?? Number.MAX_SAFE_INTEGER, size + 1), size);
  }

  /** Uses an invite once if it can be used; to be called in a transaction. */
  private redeem(codeHash: string, now: number): RedeemResult {
    const s = this.assertOpen();
    const used = s.useInvite.get(codeHash, now);
    if (used) return { ok: true, invite: toInvite(used) };
    const row = s.inviteByHash.get(codeHash);
    return { ok: false, reason: inviteRefusal(row && toInvite(row), now) ?? 'used-up' };
  }

  /** Applies `apply` to an existing account unless `change` would remove the last active admin, in one transaction. */
  private changeAccount(id: string, change: { role?: AccountRole; deactivated?: boolean }, apply: () => unknown): AccountChange {
    const s = this.assertOpen();
    return this.db!.transaction((): AccountChange => {
      const row = s.accountById.get(id);
      if (!row) return 'unknown-account';
      if (removesLastAdmin(toAccount(row), change, s.countAdmins.get()!)) return 'last-admin';
      apply();
      return 'changed';
    }).immediate();
  }

  private assertOpen(): Statements {
    this.lifecycle.assertOpen();
    if (!this.stmts) throw new Error('store is closed');
    return this.stmts;
  }
}

function prepareStatements(db: Database.Database) {
  // SQLite's lower() folds ASCII only; display names are in any script.
  db.function('parley_lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text));
  const session = 'id, token_hash, account_id, device, created_at, last_used_at, expires_at';
  const invite = 'code_hash, created_by, created_at, expires_at, max_uses, uses';
  return {
    accountById: db.prepare<[string], AccountRow>('SELECT * FROM account_users WHERE id = ?'),
    accountByKey: db.prepare<[string], AccountRow>('SELECT * FROM account_users WHERE username_key = ?'),
    anyAccount: db.prepare<[], number>('SELECT 1 FROM account_users LIMIT 1').pluck(),
    insertAccount: db.prepare<[string, string, string, string, string, AccountRole, number, number]>(
      `INSERT INTO account_users (id, username, username_key, display_name, password_hash, role, created_at, password_changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setPassword: db.prepare<[string, number, string]>('UPDATE account_users SET password_hash = ?, password_changed_at = ? WHERE id = ?'),
    setRole: db.prepare<[AccountRole, string]>('UPDATE account_users SET role = ? WHERE id = ?'),
    deactivate: db.prepare<[number, string]>('UPDATE account_users SET deactivated_at = coalesce(deactivated_at, ?) WHERE id = ?'),
    reactivate: db.prepare<[string]>('UPDATE account_users SET deactivated_at = NULL WHERE id = ?'),
    countAdmins: db.prepare<[], number>("SELECT count(*) FROM account_users WHERE role = 'admin' AND deactivated_at IS NULL").pluck(),
    setDisplayName: db.prepare<[string, string]>('UPDATE account_users SET display_name = ? WHERE id = ?'),
    listAccounts: db.prepare<[string, string, string, number], AccountRow>(
      `SELECT * FROM account_users
       WHERE username_key > ? AND (instr(username_key, ?) > 0 OR instr(parley_lower(display_name), ?) > 0)
       ORDER BY username_key LIMIT ?`,
    ),
    standing: db.prepare<[string | null, number, string], { deactivated_at: number | null; live: number }>(
      `SELECT deactivated_at,
              EXISTS (SELECT 1 FROM account_sessions s WHERE s.id = ? AND s.account_id = a.id AND s.expires_at > ?) AS live
       FROM account_users a WHERE a.id = ?`,
    ),
    insertSession: db.prepare<[string, string, string, string, number, number, number]>(`INSERT INTO account_sessions (${session}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    deleteSessionById: db.prepare<[string, string]>('DELETE FROM account_sessions WHERE id = ? AND account_id = ?'),
    touchSession: db.prepare<[number, number, string, number], SessionRow>(
      `UPDATE account_sessions SET last_used_at = max(last_used_at, ?), expires_at = max(expires_at, ?)
       WHERE token_hash = ? AND expires_at > ? RETURNING ${session}`,
    ),
    deleteExpiredSession: db.prepare<[string, number]>('DELETE FROM account_sessions WHERE token_hash = ? AND expires_at <= ?'),
    deleteExpiredSessions: db.prepare<[number]>('DELETE FROM account_sessions WHERE expires_at <= ?'),
    sessionsOf: db.prepare<[string, number], SessionRow>(
      `SELECT ${session} FROM account_sessions WHERE account_id = ? AND expires_at > ? ORDER BY last_used_at DESC, token_hash`,
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM account_sessions WHERE token_hash = ?'),
    deleteSessions: db.prepare<[string, string | null]>('DELETE FROM account_sessions WHERE account_id = ? AND token_hash IS NOT ?'),
    insertInvite: db.prepare<[string, string, number, number, number]>(
      'INSERT INTO account_invites (code_hash, created_by, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?)',
    ),
    useInvite: db.prepare<[string, number], InviteRow>(
      `UPDATE account_invites SET uses = uses + 1 WHERE code_hash = ? AND expires_at > ? AND uses < max_uses RETURNING ${invite}`,
    ),
    inviteByHash: db.prepare<[string], InviteRow>(`SELECT ${invite} FROM account_invites WHERE code_hash = ?`),
    allInvites: db.prepare<[], InviteRow>(`SELECT ${invite} FROM account_invites ORDER BY created_at DESC, code_hash`),
    deleteInvite: db.prepare<[string]>('DELETE FROM account_invites WHERE code_hash = ?'),
    insertAudit: db.prepare<[number, string, string, string | null, string | null, string | null], AuditRow>(
      'INSERT INTO account_audit (at, actor, action, target, channel, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
    ),
    auditBefore: db.prepare<[number, number], AuditRow>('SELECT * FROM account_audit WHERE id < ? ORDER BY id DESC LIMIT ?'),
  };
}
