/**
 * Recording admin actions in the audit log kept with the accounts. Every
 * admin route (and `parley admin reset-password`) calls
 * {@link recordAdminAction} once its action took effect.
 */
import type { Logger } from '../log/logger.js';
import type { AuditLog } from './audit-log.js';

/** One admin action: who did what to whom. */
export interface AdminAction {
  /** The admin's account id; "" for the server's own command line. */
  actor: string;
  action: 'account.role' | 'account.deactivate' | 'account.reactivate' | 'account.password-reset' | 'invite.create' | 'invite.revoke';
  /** The account acted on. */
  target?: string;
  /** A short note: the new role, an invitation's public id and limits. Never a code, token or password. */
  detail?: string;
}

/**
 * Appends the action to the audit log. The action has already happened when
 * this is called, so a log that cannot be written is reported (at `error`,
 * with the entry) rather than turned into a failure of the action.
 */
export async function recordAdminAction(audit: AuditLog, logger: Logger, action: AdminAction): Promise<void> {
  try {
    await audit.appendAudit({ at: Date.now(), ...action });
  } catch (error) {
    logger.error({ err: error, audit: action }, 'admin action not recorded in the audit log');
  }
}
