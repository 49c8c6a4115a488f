/**
 * The account tables' rows as both stores read them (SQLite gives numbers,
 * postgres.js gives `bigint` columns as strings), and their conversion.
 * Both schemas use these column names.
 */
import { randomBytes } from 'node:crypto';
import type { Account, AccountPage, AccountRole, Invite, Session } from './account-store.js';
import { usernameKey } from './username.js';

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
  id: string;
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
    id: row.id,
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

/** A fresh {@link Session.id}: 96 random bits, unrelated to the token. */
export function newSessionId(): string {
  return randomBytes(12).toString('base64url');
}

/** Most accounts one {@link AccountStore.listAccounts} page holds. */
export const MAX_ACCOUNT_PAGE = 1000;

/** The page size asked for, within 1..{@link MAX_ACCOUNT_PAGE}. */
export function pageLimit(limit: number): number {
  return Math.min(MAX_ACCOUNT_PAGE, Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1)));
}

/**
 * What a listing search matches: the search's username key (so `ALICE`
 * and `аlice` find `alice`) against username keys, and its lower case
 * against lower-cased display names. Empty strings match everything.
 */
export function searchTerms(search: string | undefined): { key: string; name: string } {
  const text = (search ?? '').trim();
  return text === '' ? { key: '', name: '' } : { key: usernameKey(text), name: text.toLowerCase() };
}

/** Builds a listing page from up to `limit + 1` rows read in key order. */
export function accountPage(rows: AccountRow[], limit: number): AccountPage {
  const accounts = rows.slice(0, limit).map(toAccount);
  return { accounts, next: rows.length > limit ? accounts[accounts.length - 1]!.usernameKey : undefined };
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
