/**
 * Durable accounts, their sign-in sessions and invitations, and the audit
 * log of what admins and moderators did. Passwords,
 * refresh tokens and invite codes never reach a store: only a password
 * hash (`password.ts`) and SHA-256 digests of tokens and codes do.
 */

/** `admin` runs the server (deactivates accounts, invites people); `member` chats. */
export type AccountRole = 'admin' | 'member';

export interface Account {
  /** The user id messages carry; a claimed guest keeps their guest id. */
  id: string;
  /** As registered (NFC), shown to people. */
  username: string;
  /** `usernameKey(username)`: unique among all accounts. */
  usernameKey: string;
  displayName: string;
  /** Stays on the server: never part of an answer to a client. */
  passwordHash: string;
  role: AccountRole;
  /** When an admin deactivated the account (ms since the Unix epoch), or undefined while it is active. */
  deactivatedAt: number | undefined;
  createdAt: number;
  passwordChangedAt: number;
}

export interface NewAccount {
  /** A fresh user id, or an existing guest's id when a guest claims their identity. */
  id: string;
  /** Already checked with `checkUsername`; the store derives its key. */
  username: string;
  passwordHash: string;
  displayName: string;
  now: number;
  /**
   * SHA-256 (hex) of an invite code to redeem with the creation: the
   * invite is used once if and only if the account is created.
   */
  inviteCodeHash?: string;
  /**
   * Whether this account becomes `admin` when there is no active admin yet. False for
   * a guest claiming their identity: an anonymous visitor never becomes the
   * server's admin by being the first to claim. @default true
   */
  firstMayBeAdmin?: boolean;
}

/**
 * Whether a connection of an account's user may be made or kept:
 * `not-an-account` (the user id has no account: a guest, or a user of
 * tokens minted elsewhere), `deactivated`, `session-ended` (the session
 * named was revoked, has expired or belongs to someone else), or `active`.
 */
export type AccountStanding = 'not-an-account' | 'deactivated' | 'session-ended' | 'active';

/** A page of {@link AccountStore.listAccounts}. */
export interface AccountPage {
  accounts: Account[];
  /** Pass as `after` for the next page; undefined on the last page. */
  next: string | undefined;
}

/** What {@link AccountStore.listAccounts} lists. */
export interface AccountQuery {
  /** Only accounts whose username (compared by `usernameKey`) or display name (case-insensitively) contains this. @default "" (every account) */
  search?: string;
  /** Largest page (1..1000). */
  limit: number;
  /** The `next` of the previous page. */
  after?: string;
}

/** Why an invite could not be redeemed. */
export type InviteRefusal = 'unknown' | 'expired' | 'used-up';

export type CreateAccountResult =
  | { ok: true; account: Account }
  /** `username-taken`: another account's username has the same key; `id-taken`: an account with this id exists (a guest claimed twice). */
  | { ok: false; reason: 'username-taken' | 'id-taken' }
  /** The invite given could not be redeemed; nothing was created or used. */
  | { ok: false; reason: 'invite'; invite: InviteRefusal };

/** What a role change or deactivation came to. */
export type AccountChange = 'changed' | 'unknown-account' | 'last-admin';

export interface NewSession {
  /** SHA-256 (hex) of the refresh token; the token itself is never stored. */
  tokenHash: string;
  accountId: string;
  /** What the person signed in with, for their list of devices (e.g. a browser's name). */
  device: string;
  now: number;
  expiresAt: number;
}

export interface Session {
  /**
   * A short random id the store gives the session: carried by connection
   * tokens (`sid`) and shown in the list of devices, so neither needs the
   * token hash.
   */
  id: string;
  tokenHash: string;
  accountId: string;
  device: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

export interface NewInvite {
  /** SHA-256 (hex) of the invite code; the code itself is never stored. */
  codeHash: string;
  /** The admin's account id. */
  createdBy: string;
  expiresAt: number;
  /** How many accounts the invite may create (at least 1). */
  maxUses: number;
  now: number;
}

export interface Invite {
  codeHash: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number;
  uses: number;
}

export type RedeemResult = { ok: true; invite: Invite } | { ok: false; reason: InviteRefusal };

import type { AuditLog } from './audit-log.js';

/**
 * Accounts, sessions and invitations, and the {@link AuditLog} kept with them. Implementations: `SqliteAccountStore`
 * (one node) and `PostgresAccountStore` (several nodes writing one
 * database at once). Every guarantee below holds across nodes.
 *
 * Life: calls before {@link open} reject as "not open", after
 * {@link close} as "closed"; both are idempotent. Every write is durable
 * when its promise resolves.
 */
export interface AccountStore extends AuditLog {
  open(): Promise<void>;
  close(): Promise<void>;

  /**
   * Creates an account. Refused when another account's username has the
   * same `usernameKey` (so case and look-alike variants are one name) or an
   * account with this id exists. An account created while the storage has
   * no active admin gets role `admin` (unless `firstMayBeAdmin` is false),
   * every other one `member`: exactly one becomes admin, even when several
   * nodes create accounts at once.
   * Claiming a guest identity is this call with the guest's user id.
   * With `inviteCodeHash`, the invite is redeemed in the same transaction
   * (as {@link redeemInvite} would): a refused creation uses no invite, a
   * refused invite creates no account.
   */
  createAccount(account: NewAccount): Promise<CreateAccountResult>;
  getAccount(id: string): Promise<Account | undefined>;
  /** The account whose username has the same key as `username`, active or not. */
  findByUsername(username: string): Promise<Account | undefined>;
  /** Replaces the password hash. Sessions are left alone (revoke them separately). @returns false for an unknown id. */
  setPassword(id: string, passwordHash: string, now: number): Promise<boolean>;
  /**
   * Sets the role. Refused (`last-admin`) when it would leave no active
   * admin; decided atomically with concurrent role changes and deactivations.
   */
  setRole(id: string, role: AccountRole): Promise<AccountChange>;
  /**
   * Deactivates (every session of the account is deleted with it, so none
   * comes back on reactivation) or reactivates an account. Refused
   * (`last-admin`) when it would deactivate the last active admin.
   * Deactivating a deactivated account keeps its first `deactivatedAt`.
   */
  setDeactivated(id: string, deactivated: boolean, now: number): Promise<AccountChange>;
  /** Active admins. */
  countAdmins(): Promise<number>;
  /** Replaces the display name. @returns false for an unknown id. */
  setDisplayName(id: string, displayName: string): Promise<boolean>;
  /**
   * Accounts (active and deactivated) in order of their username key, a page
   * at a time. Pages follow each other without gaps or repeats while
   * accounts are added.
   */
  listAccounts(query: AccountQuery): Promise<AccountPage>;
  /**
   * Whether the user `accountId` may be connected, with the session
   * `sessionId` when given (it must be live at `now` and the account's).
   * One indexed read: called on every connect and token refresh.
   */
  standing(accountId: string, sessionId: string | undefined, now: number): Promise<AccountStanding>;

  /**
   * Stores a session.
   * @throws RangeError when `tokenHash` is not a SHA-256 hex digest; Error when the account does not exist or the hash is already stored.
   */
  createSession(session: NewSession): Promise<Session>;
  /**
   * The account and session of `tokenHash` when the session exists, has not
   * expired (`now < expiresAt`) and its account is active; marks it used at
   * `now` and, with `slideTo`, moves its expiry to `slideTo` (never earlier).
   * Otherwise undefined, and an expired session is deleted.
   */
  useSession(tokenHash: string, now: number, slideTo?: number): Promise<{ account: Account; session: Session } | undefined>;
  /** An account's live sessions (not expired at `now`), most recently used first. */
  listSessions(accountId: string, now: number): Promise<Session[]>;
  /** @returns whether a session was deleted. */
  revokeSession(tokenHash: string): Promise<boolean>;
  /** Deletes the session with this {@link Session.id} if it is the account's. @returns whether a session was deleted. */
  revokeSessionById(accountId: string, sessionId: string): Promise<boolean>;
  /** Deletes every session that has expired at `now` (those nobody tries again are otherwise kept). @returns how many were deleted. */
  deleteExpiredSessions(now: number): Promise<number>;
  /** Deletes every session of an account but `exceptTokenHash` (this device, when signing out the others). @returns how many were deleted. */
  revokeAllSessions(accountId: string, exceptTokenHash?: string): Promise<number>;

  /**
   * Stores an invite.
   * @throws RangeError when `codeHash` is not a SHA-256 hex digest or `maxUses` < 1; Error when the hash is already stored.
   */
  createInvite(invite: NewInvite): Promise<Invite>;
  /**
   * Uses an invite once, if it exists, `now < expiresAt` and `uses < maxUses`.
   * Atomic: concurrent redemptions (on any node) never exceed `maxUses`.
   */
  redeemInvite(codeHash: string, now: number): Promise<RedeemResult>;
  /** Every stored invite (used up and expired ones too), newest first. */
  listInvites(): Promise<Invite[]>;
  /** Deletes an invite; it can no longer be redeemed. @returns whether it existed. */
  revokeInvite(codeHash: string): Promise<boolean>;
}

/** The reason an invite row that was not redeemed could not be, or undefined when it could have been. */
export function inviteRefusal(invite: Invite | undefined, now: number): InviteRefusal | undefined {
  if (!invite) return 'unknown';
  if (now >= invite.expiresAt) return 'expired';
  if (invite.uses >= invite.maxUses) return 'used-up';
  return undefined;
}
