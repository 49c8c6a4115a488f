import type { AccountStore } from '../accounts/account-store.js';
import type { AuditEntry, AuditLog } from '../accounts/audit-log.js';
import { Errors } from '../protocol/errors.js';
import type { ChatStore } from './chat-store.js';
import type { Caller } from './profile.js';
import type { AdminRpc, AuditEntryView } from './protocol.js';

const AUDIT_PAGE_DEFAULT = 50;
const AUDIT_PAGE_MAX = 200;
/** How the server itself (the CLI, sweeps) shows as an actor. */
const SERVER_NAME = 'Server';

/**
 * The audit log as admins read it in the app (`admin.audit`): entries
 * newest first, with the display names of the actor and the target (their
 * chat profile, else their account's display name, else the bare id).
 */
export class AuditView {
  constructor(
    private readonly log: Pick<AuditLog, 'listAudit'>,
    private readonly accounts: Pick<AccountStore, 'getAccount'>,
    private readonly store: ChatStore,
    private readonly isAdmin: (userId: string) => Promise<boolean>,
  ) {}

  /** @throws ProtocolError 103 for anyone but an admin; 107 for a bad page request. */
  async page(caller: Caller, request: AdminRpc['admin.audit']['request']): Promise<AdminRpc['admin.audit']['result']> {
    if (!(await this.isAdmin(caller.user.id))) throw Errors.permissionDenied('Only admins can read the audit log');
    const limit = request.limit ?? AUDIT_PAGE_DEFAULT;
    if (limit < 1 || limit > AUDIT_PAGE_MAX) throw Errors.badRequest(`limit must be 1 to ${AUDIT_PAGE_MAX}`);
    if (request.before !== undefined && request.before < 1) throw Errors.badRequest('before must be an entry id of at least 1');
    const page = await this.log.listAudit({ limit, ...(request.before === undefined ? {} : { before: request.before }) });
    const names = new Map<string, Promise<string>>();
    const person = async (id: string): Promise<{ id: string; name: string }> => {
      let name = names.get(id);
      if (!name) names.set(id, (name = this.nameOf(id)));
      return { id, name: await name };
    };
    const entries = await Promise.all(page.entries.map(async (entry) => this.view(entry, person)));
    return { entries, hasMore: page.hasMore };
  }

  private async view(entry: AuditEntry, person: (id: string) => Promise<{ id: string; name: string }>): Promise<AuditEntryView> {
    const view: AuditEntryView = { id: entry.id, at: entry.at, action: entry.action, actor: await person(entry.actor) };
    if (entry.target !== undefined) view.target = await person(entry.target);
    if (entry.channel !== undefined) view.channel = entry.channel;
    if (entry.detail !== undefined) view.detail = entry.detail;
    return view;
  }

  private async nameOf(id: string): Promise<string> {
    if (id === '') return SERVER_NAME;
    const profile = await this.store.getUser(id);
    if (profile) return profile.name;
    return (await this.accounts.getAccount(id))?.displayName ?? id;
  }
}
