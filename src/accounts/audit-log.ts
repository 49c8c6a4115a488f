/**
 * The audit log: who did what to whom, for admins to read. Moderation in
 * rooms and the administration of accounts and invitations each append one
 * entry per action. Entries are never changed or deleted through this
 * interface: the log is a record, not state.
 */

/**
 * What was done, as `<subject>.<verb>`. The actions in use:
 * - accounts: `account.role`, `account.deactivate`, `account.reactivate`, `account.password-reset`;
 * - invitations: `invite.create`, `invite.revoke`;
 * - rooms: `message.delete`, `member.remove`, `member.mute`, `member.unmute`, `member.ban`, `member.unban`, `member.role`.
 */
export type AuditAction = string;

/** Shape of an action name: lower-case words joined by `.` (and `-` within a word). */
export const AUDIT_ACTION_PATTERN = /^[a-z]+(?:-[a-z]+)*(?:\.[a-z]+(?:-[a-z]+)*)+$/;
/** Longest `detail` text, in characters: a short human-readable note, not a payload. */
export const MAX_AUDIT_DETAIL_LENGTH = 500;
/** Most entries one {@link AuditLog.listAudit} page holds. */
export const MAX_AUDIT_PAGE = 200;

export interface NewAuditEntry {
  /** Milliseconds since the Unix epoch. */
  at: number;
  /** User id of who acted; "" for the server itself (the CLI, an automatic sweep). */
  actor: string;
  action: AuditAction;
  /** User id the action was done to, when it was done to a user. */
  target?: string;
  /** The channel it happened in, for actions in a room or conversation. */
  channel?: string;
  /** A short note for the reader (e.g. the role granted); never a secret, a token or a message's text. */
  detail?: string;
}

export interface AuditEntry extends NewAuditEntry {
  /** Increases with every append on the storage, across nodes: the page cursor. */
  id: number;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  /** Whether older entries exist after the last one returned. */
  hasMore: boolean;
}

/**
 * An append-only record of administrative and moderation actions, kept with
 * the accounts (same storage and lifetime as the {@link AccountStore}).
 *
 * Guarantees: an append is durable when its promise resolves; ids are
 * unique and increase with each append (on PostgreSQL: in the order appends
 * obtain their id, which for appends that do not overlap in time is the
 * order they were made); `listAudit` pages newest first by id, and paging
 * with `before` = the last id of a page visits every entry once.
 */
export interface AuditLog {
  /**
   * Appends an entry.
   * @throws RangeError for an action not matching {@link AUDIT_ACTION_PATTERN}
   *   or a detail longer than {@link MAX_AUDIT_DETAIL_LENGTH}.
   */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Entries with id below `before` (all when absent), newest first, at most `limit` (1–{@link MAX_AUDIT_PAGE}). */
  listAudit(options: { before?: number; limit: number }): Promise<AuditPage>;
}

/** Checks an entry before it is stored; the same rules on every implementation. */
export function checkAuditEntry(entry: NewAuditEntry): void {
  if (!AUDIT_ACTION_PATTERN.test(entry.action)) throw new RangeError(`audit action ${JSON.stringify(entry.action.slice(0, 60))} is not <subject>.<verb>`);
  if (entry.detail !== undefined && [...entry.detail].length > MAX_AUDIT_DETAIL_LENGTH) {
    throw new RangeError(`audit detail is longer than ${MAX_AUDIT_DETAIL_LENGTH} characters`);
  }
}

/** The page size to read: `limit` clamped to 1–{@link MAX_AUDIT_PAGE}. */
export function auditPageSize(limit: number): number {
  return Math.min(MAX_AUDIT_PAGE, Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1)));
}

/** A stored row of the audit table (both stores use these column names). */
export interface AuditRow {
  id: number | string;
  at: number | string;
  actor: string;
  action: string;
  target: string | null;
  channel: string | null;
  detail: string | null;
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  const entry: AuditEntry = { id: Number(row.id), at: Number(row.at), actor: row.actor, action: row.action };
  if (row.target !== null) entry.target = row.target;
  if (row.channel !== null) entry.channel = row.channel;
  if (row.detail !== null) entry.detail = row.detail;
  return entry;
}

/** One page from `limit + 1` rows read newest first. */
export function auditPageOf(rows: readonly AuditRow[], size: number): AuditPage {
  return { entries: rows.slice(0, size).map(toAuditEntry), hasMore: rows.length > size };
}
