/**
 * The account tables' rows as both stores read them (SQLite gives numbers,
 * postgres.js gives `bigint` columns as strings), and their conversion.
 * Both schemas use these column names.
 */
import type { Account, AccountRole, Invite, Session } from './account-store.js';

type Time = number | string;

export interface AccountRow {
  id: string;
  username: string;
  username_key: string;
  display_name: string;
  password_hash: string;
  role: string;
  deactivated_at: Time | null;
  created_at: Time;
  password_changed_at: Time;
}

export interface SessionRow {
  token_hash: string;
  account_id: string;
  device: string;
  created_at: Time;
  last_used_at: Time;
  expires_at: Time;
}

export interface InviteRow {
  code_hash: string;
  created_by: string;
  created_at: Time;
  expires_at: Time;
  max_uses: Time;
  uses: Time;
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    usernameKey: row.username_key,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    role: row.role as AccountRole,
    deactivatedAt: row.deactivated_at === null ? undefined : Number(row.deactivated_at),
    createdAt: Number(row.created_at),
    passwordChangedAt: Number(row.password_changed_at),
  };
}

export function toSession(row: SessionRow): Session {
  return {
    tokenHash: row.token_hash,
    accountId: row.account_id,
    device: row.device,
    createdAt: Number(row.created_at),
    lastUsedAt: Number(row.last_used_at),
    expiresAt: Number(row.expires_at),
  };
}

export function toInvite(row: InviteRow): Invite {
  return {
    codeHash: row.code_hash,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    maxUses: Number(row.max_uses),
    uses: Number(row.uses),
  };
}

/** Whether changing `account` this way would leave no active admin, given how many active admins there are. */
export function removesLastAdmin(account: Account, change: { role?: AccountRole; deactivated?: boolean }, activeAdmins: number): boolean {
  const isActiveAdmin = account.role === 'admin' && account.deactivatedAt === undefined;
  const staysActiveAdmin = (change.role ?? account.role) === 'admin' && !(change.deactivated ?? account.deactivatedAt !== undefined);
  return isActiveAdmin && !staysActiveAdmin && activeAdmins <= 1;
}

/** @throws RangeError unless `maxUses` is a whole number of at least 1. */
export function checkMaxUses(maxUses: number): void {
  if (!Number.isSafeInteger(maxUses) || maxUses < 1) throw new RangeError('an invite needs maxUses of at least 1');
}

/**
 * @throws RangeError unless `hash` is a SHA-256 digest in lower-case hex, so
 * a raw token or code handed over by mistake is refused, never stored.
 */
export function checkDigest(hash: string, what: string): void {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new RangeError(`${what} must be a SHA-256 digest in hex`);
}
