/**
 * Where admin actions are recorded. Every admin route calls
 * {@link recordAdminAction} once its action took effect.
 */
import type { Logger } from '../log/logger.js';

/** One admin action: who did what to whom. */
export interface AdminAction {
  /** The admin's account id. */
  actor: string;
  action: 'role' | 'deactivate' | 'reactivate' | 'invite-create' | 'invite-revoke';
  /** The account or invite acted on (an invite by its public id, never its code). */
  target: string;
  /** The new role, an invite's limits. */
  detail?: Record<string, string | number>;
}

/**
 * Records an admin action. The durable audit log of the account store
 * is not part of this server yet, so actions are written to the server's
 * log (at `info`, as structured fields) for now: this is the one place
 * where the audit log's `append` call goes.
 */
export async function recordAdminAction(logger: Logger, action: AdminAction): Promise<void> {
  logger.info({ audit: action }, 'admin action');
}
