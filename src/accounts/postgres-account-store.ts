import type { Sql, TransactionSql } from 'postgres';
import { migrate } from '../store/postgres-migrations.js';
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
import { ACCOUNT_SCHEMA } from './postgres-account-schema.js';
import { usernameKey } from './username.js';

/** Options for {@link PostgresAccountStore}. */
export interface PostgresAccountStoreOptions {
  /**
   * The client to use (postgres.js). The store neither opens nor ends it:
   * its owner ends it after {@link PostgresAccountStore.close}.
   */
  sql: Sql;
}

/**
 * Key of the advisory lock under which account creation, role changes and
 * deactivations run, on every node (the ASCII of "parleyac"): who is the
 * first account and who is the last admin are decided one at a time.
 * Sign-ins and invites never take it.
 */
const ACCOUNT_LOCK_KEY = 0x7061726c65796163n.toString();

/** postgres.js reports a violated unique constraint with this SQLSTATE. */
const UNIQUE_VIOLATION = '23505';

/**
 * {@link AccountStore} on PostgreSQL, safe to share between several
 * processes ("nodes") on one database. Account creation, role changes and
 * deactivations are serialized across nodes by a transaction-level advisory
 * lock; a username key and an id are unique by constraints as well. An
 * invite's use count is raised by one conditional UPDATE, whose row lock
 * makes concurrent redemptions take turns.
 */
export class PostgresAccountStore implements AccountStore {
  private readonly sql: Sql;
  private readonly lifecycle = new StoreLifecycle();

  constructor(options: PostgresAccountStoreOptions) {
    this.sql = options.sql;
  }

  async open(): Promise<void> {
    if (!this.lifecycle.beginOpen()) return;
    await migrate(this.sql, [ACCOUNT_SCHEMA]);
    this.lifecycle.opened();
  }

  async close(): Promise<void> {
    this.lifecycle.close();
  }

  async createAccount(account: NewAccount): Promise<CreateAccountResult> {
    const sql = this.assertOpen();
    const key = usernameKey(account.username);
    const { id, username, displayName, passwordHash, now, inviteCodeHash } = account;
    try {
      return await this.locked(sql, async (tx): Promise<CreateAccountResult> => {
        const [taken] = await tx<{ id: string }[]>`
          SELECT id FROM account_users WHERE id = ${id} OR username_key = ${key} ORDER BY id = ${id} DESC LIMIT 1`;
        if (taken) return { ok: false, reason: taken.id === id ? 'id-taken' : 'username-taken' };
        if (inviteCodeHash !== undefined) {
          const redeemed = await redeem(tx, inviteCodeHash, now);
          if (!redeemed.ok) return { ok: false, reason: 'invite', invite: redeemed.reason };
        }
        const [row] = await tx<AccountRow[]>`
          INSERT INTO account_users (id, username, username_key, display_name, password_hash, role, created_at, password_changed_at)
          VALUES (${id}, ${username}, ${key}, ${displayName}, ${passwordHash},
                  CASE WHEN ${account.firstMayBeAdmin === false}
                         OR EXISTS (SELECT 1 FROM account_users WHERE role = 'admin' AND deactivated_at IS NULL) THEN 'member' ELSE 'admin' END, ${now}, ${now})
          RETURNING *`;
        return { ok: true, account: toAccount(row!) };
      });
    } catch (err) {
      // Only a writer that skips the lock (an older node, a manual insert) gets here.
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        const byId = await this.getAccount(id);
        return { ok: false, reason: byId ? 'id-taken' : 'username-taken' };
      }
      throw err;
    }
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const [row] = await this.assertOpen()<AccountRow[]>`SELECT * FROM account_users WHERE id = ${id}`;
    return row && toAccount(row);
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const [row] = await this.assertOpen()<AccountRow[]>`SELECT * FROM account_users WHERE username_key = ${usernameKey(username)}`;
    return row && toAccount(row);
  }

  async setPassword(id: string, passwordHash: string, now: number): Promise<boolean> {
    const result = await this.assertOpen()`
      UPDATE account_users SET password_hash = ${passwordHash}, password_changed_at = ${now} WHERE id = ${id}`;
    return result.count > 0;
  }

  async setRole(id: string, role: AccountRole): Promise<AccountChange> {
    return this.changeAccount(id, { role }, async (tx) => {
      await tx`UPDATE account_users SET role = ${role} WHERE id = ${id}`;
    });
  }

  async setDeactivated(id: string, deactivated: boolean, now: number): Promise<AccountChange> {
    return this.changeAccount(id, { deactivated }, async (tx) => {
      if (!deactivated) {
        await tx`UPDATE account_users SET deactivated_at = NULL WHERE id = ${id}`;
        return;
      }
      await tx`UPDATE account_users SET deactivated_at = coalesce(deactivated_at, ${now}) WHERE id = ${id}`;
      await tx`DELETE FROM account_sessions WHERE account_id = ${id}`;
    });
  }

  async countAdmins(): Promise<number> {
    return countActiveAdmins(this.assertOpen());
  }

  async setDisplayName(id: string, displayName: string): Promise<boolean> {
    const result = await this.assertOpen()`UPDATE account_users SET display_name = ${displayName} WHERE id = ${id}`;
    return result.count > 0;
  }

  async listAccounts(query: AccountQuery): Promise<AccountPage> {
    const limit = pageLimit(query.limit);
    const { key, name } = searchTerms(query.search);
    // Byte order, as SQLite compares: pages then follow the same order whatever the database's collation.
    const rows = await this.assertOpen()<AccountRow[]>`
      SELECT * FROM account_users
      WHERE username_key COLLATE "C" > ${query.after ?? ''} AND (strpos(username_key, ${key}) > 0 OR strpos(lower(display_name), ${name}) > 0)
      ORDER BY username_key COLLATE "C" LIMIT ${limit + 1}`;
    return accountPage(rows, limit);
  }

  async standing(accountId: string, sessionId: string | undefined, now: number): Promise<AccountStanding> {
    const [row] = await this.assertOpen()<{ deactivated_at: string | null; live: boolean }[]>`
      SELECT deactivated_at,
             EXISTS (SELECT 1 FROM account_sessions s WHERE s.id = ${sessionId ?? null} AND s.account_id = a.id AND s.expires_at > ${now}) AS live
      FROM account_users a WHERE a.id = ${accountId}`;
    if (!row) return 'not-an-account';
    if (row.deactivated_at !== null) return 'deactivated';
    return sessionId === undefined || row.live ? 'active' : 'session-ended';
  }

  async createSession(session: NewSession): Promise<Session> {
    const { tokenHash, accountId, device, now, expiresAt } = session;
    checkDigest(tokenHash, 'a session token hash');
    const [row] = await this.assertOpen()<SessionRow[]>`
      INSERT INTO account_sessions (id, token_hash, account_id, device, created_at, last_used_at, expires_at)
      VALUES (${newSessionId()}, ${tokenHash}, ${accountId}, ${device}, ${now}, ${now}, ${expiresAt})
      RETURNING *`;
    return toSession(row!);
  }

  async useSession(tokenHash: string, now: number, slideTo?: number): Promise<{ account: Account; session: Session } | undefined> {
    const sql = this.assertOpen();
    // One statement: the session is marked used only when its account is active at that moment.
    const [row] = await sql<(AccountRow & { session: SessionRow })[]>`
      WITH used AS (
        UPDATE account_sessions s SET last_used_at = greatest(s.last_used_at, ${now}), expires_at = greatest(s.expires_at, ${slideTo ?? 0})
        FROM account_users a
        WHERE s.token_hash = ${tokenHash} AND s.expires_at > ${now} AND a.id = s.account_id AND a.deactivated_at IS NULL
        RETURNING s.*
      )
      SELECT a.*, row_to_json(used.*) AS session FROM used JOIN account_users a ON a.id = used.account_id`;
    if (row) {
      const { session, ...account } = row;
      return { account: toAccount(account), session: toSession(session) };
    }
    await sql`DELETE FROM account_sessions WHERE token_hash = ${tokenHash} AND expires_at <= ${now}`;
    return undefined;
  }

  async listSessions(accountId: string, now: number): Promise<Session[]> {
    const rows = await this.assertOpen()<SessionRow[]>`
      SELECT * FROM account_sessions WHERE account_id = ${accountId} AND expires_at > ${now}
      ORDER BY last_used_at DESC, token_hash`;
    return rows.map(toSession);
  }

  async revokeSession(tokenHash: string): Promise<boolean> {
    const result = await this.assertOpen()`DELETE FROM account_sessions WHERE token_hash = ${tokenHash}`;
    return result.count > 0;
  }

  async revokeSessionById(accountId: string, sessionId: string): Promise<boolean> {
    const result = await this.assertOpen()`DELETE FROM account_sessions WHERE id = ${sessionId} AND account_id = ${accountId}`;
    return result.count > 0;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const result = await this.assertOpen()`DELETE FROM account_sessions WHERE expires_at <= ${now}`;
    return result.count;
  }

  async revokeAllSessions(accountId: string, exceptTokenHash?: string): Promise<number> {
    const result = await this.assertOpen()`
      DELETE FROM account_sessions WHERE account_id = ${accountId} AND token_hash IS DISTINCT FROM ${exceptTokenHash ?? null}`;
    return result.count;
  }

  async createInvite(invite: NewInvite): Promise<Invite> {
    const { codeHash, createdBy, expiresAt, maxUses, now } = invite;
    checkDigest(codeHash, 'an invite code hash');
    checkMaxUses(maxUses);
    const [row] = await this.assertOpen()<InviteRow[]>`
      INSERT INTO account_invites (code_hash, created_by, created_at, expires_at, max_uses)
      VALUES (${codeHash}, ${createdBy}, ${now}, ${expiresAt}, ${maxUses})
      RETURNING *`;
    return toInvite(row!);
  }

  async redeemInvite(codeHash: string, now: number): Promise<RedeemResult> {
    return redeem(this.assertOpen(), codeHash, now);
  }

  async listInvites(): Promise<Invite[]> {
    const rows = await this.assertOpen()<InviteRow[]>`SELECT * FROM account_invites ORDER BY created_at DESC, code_hash`;
    return rows.map(toInvite);
  }

  async revokeInvite(codeHash: string): Promise<boolean> {
    const result = await this.assertOpen()`DELETE FROM account_invites WHERE code_hash = ${codeHash}`;
    return result.count > 0;
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    checkAuditEntry(entry);
    const { at, actor, action, target, channel, detail } = entry;
    const [row] = await this.assertOpen()<AuditRow[]>`
      INSERT INTO account_audit (at, actor, action, target, channel, detail)
      VALUES (${at}, ${actor}, ${action}, ${target ?? null}, ${channel ?? null}, ${detail ?? null})
      RETURNING *`;
    return toAuditEntry(row!);
  }

  async listAudit(options: { before?: number; limit: number }): Promise<AuditPage> {
    const size = auditPageSize(options.limit);
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.assertOpen()<AuditRow[]>`SELECT * FROM account_audit WHERE id < ${before} ORDER BY id DESC LIMIT ${size + 1}`;
    return auditPageOf(rows, size);
  }

  /** Applies `apply` to an existing account unless `change` would remove the last active admin, under the account lock. */
  private changeAccount(id: string, change: { role?: AccountRole; deactivated?: boolean }, apply: (tx: TransactionSql) => Promise<void>): Promise<AccountChange> {
    return this.locked(this.assertOpen(), async (tx): Promise<AccountChange> => {
      const [row] = await tx<AccountRow[]>`SELECT * FROM account_users WHERE id = ${id}`;
      if (!row) return 'unknown-account';
      if (removesLastAdmin(toAccount(row), change, await countActiveAdmins(tx))) return 'last-admin';
      await apply(tx);
      return 'changed';
    });
  }

  /** Runs `fn` in a transaction holding the account lock. */
  private locked<T>(sql: Sql, fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
    return sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${ACCOUNT_LOCK_KEY}::bigint)`;
      return fn(tx);
    }) as Promise<T>;
  }

  private assertOpen(): Sql {
    this.lifecycle.assertOpen();
    return this.sql;
  }
}

async function countActiveAdmins(sql: Sql | TransactionSql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM account_users WHERE role = 'admin' AND deactivated_at IS NULL`;
  return Number(row!.n);
}

/** Uses an invite once if it can be used; in a transaction, the use is undone with it. */
async function redeem(sql: Sql | TransactionSql, codeHash: string, now: number): Promise<RedeemResult> {
  // A concurrent redemption waits for this row's lock, then re-checks the WHERE on the updated row.
  const [used] = await sql<InviteRow[]>`
    UPDATE account_invites SET uses = uses + 1
    WHERE code_hash = ${codeHash} AND expires_at > ${now} AND uses < max_uses
    RETURNING *`;
  if (used) return { ok: true, invite: toInvite(used) };
  const [row] = await sql<InviteRow[]>`SELECT * FROM account_invites WHERE code_hash = ${codeHash}`;
  // Uses only grow and the expiry never moves, so a refused row is still refusable (or gone).
  return { ok: false, reason: inviteRefusal(row && toInvite(row), now) ?? 'used-up' };
}
