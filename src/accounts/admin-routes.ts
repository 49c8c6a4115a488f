/**
 * What admins do from the web app (`/app/admin/…`): list and search
 * accounts, change roles, deactivate and reactivate accounts, make and
 * revoke invitations. The caller's account is read from the store on every
 * request: 401 when not signed in, 403 unless an active admin.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { disconnectUserEverywhere } from '../cluster/user-disconnect.js';
import { bodyOf, HttpError } from '../http/app-errors.js';
import type { AdminAccountInfo, CreatedInvite, InviteInfo } from '../chat/protocol.js';
import { Disconnects } from '../protocol/errors.js';
import { counted, requireAccount, type AccountRoutesContext } from './account-context.js';
import { inviteCodeHash } from './account-routes.js';
import type { Account, AccountChange, Invite } from './account-store.js';
import { recordAdminAction } from './admin-audit.js';

const BODY_LIMIT = 4 * 1024;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const DEFAULT_INVITE_HOURS = 168;
const MAX_INVITE_HOURS = 720;
const MAX_INVITE_USES = 1000;

export function registerAdminRoutes(app: FastifyInstance, context: AccountRoutesContext): void {
  const { accounts, logger } = context;

  /** The caller's account, when it is an active admin. */
  const requireAdmin = async (request: FastifyRequest): Promise<Account> => {
    const { account } = await requireAccount(context, request);
    if (account.role !== 'admin') throw new HttpError(403, 'Only admins can do that');
    return account;
  };

  app.get<{ Querystring: Record<string, string | undefined> }>('/admin/accounts', async (request, reply) =>
    counted(context, reply, async () => {
      await requireAdmin(request);
      const { query, limit, cursor } = request.query;
      // A repeated parameter arrives as an array: refused rather than read as text.
      for (const [name, value] of Object.entries({ query, limit, cursor })) {
        if (value !== undefined && typeof value !== 'string') throw new HttpError(400, `${name} must be given once`);
      }
      const pageSize = limit === undefined || limit === '' ? DEFAULT_PAGE : Number(limit);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE) throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_PAGE}`);
      const after = cursor === undefined || cursor === '' ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
      const page = await accounts.listAccounts({ search: query ?? '', limit: pageSize, ...(after === undefined ? {} : { after }) });
      return {
        accounts: page.accounts.map(adminView),
        ...(page.next === undefined ? {} : { next: Buffer.from(page.next, 'utf8').toString('base64url') }),
      };
    }),
  );

  /** Applies an account change decided by the store, answering its refusals. */
  const changeAccount = async (id: string, change: () => Promise<AccountChange>): Promise<Account> => {
    const outcome = await change();
    if (outcome === 'unknown-account') throw new HttpError(404, 'There is no such account');
    if (outcome === 'last-admin') throw new HttpError(409, 'This is the last active admin: make another account admin first');
    return (await accounts.getAccount(id))!;
  };

  app.post<{ Params: { id: string } }>('/admin/accounts/:id/role', { bodyLimit: BODY_LIMIT }, async (request, reply) =>
    counted(context, reply, async () => {
      const admin = await requireAdmin(request);
      const role = bodyOf(request.body).role;
      if (role !== 'admin' && role !== 'member') throw new HttpError(400, 'role must be "admin" or "member"');
      const account = await changeAccount(request.params.id, () => accounts.setRole(request.params.id, role));
      await recordAdminAction(accounts, logger, { actor: admin.id, action: 'account.role', target: account.id, detail: role });
      return { account: adminView(account) };
    }),
  );

  app.post<{ Params: { id: string } }>('/admin/accounts/:id/deactivate', { bodyLimit: BODY_LIMIT }, async (request, reply) =>
    counted(context, reply, async () => {
      const admin = await requireAdmin(request);
      const { id } = request.params;
      const account = await changeAccount(id, () => accounts.setDeactivated(id, true, Date.now()));
      // Its sessions went with the deactivation; now its connections, on every node, and its reconnects.
      await disconnectUserEverywhere(context.disconnects, id, Disconnects.accountDeactivated);
      await recordAdminAction(accounts, logger, { actor: admin.id, action: 'account.deactivate', target: id });
      return { account: adminView(account) };
    }),
  );

  app.post<{ Params: { id: string } }>('/admin/accounts/:id/reactivate', { bodyLimit: BODY_LIMIT }, async (request, reply) =>
    counted(context, reply, async () => {
      const admin = await requireAdmin(request);
      const { id } = request.params;
      const account = await changeAccount(id, () => accounts.setDeactivated(id, false, Date.now()));
      await recordAdminAction(accounts, logger, { actor: admin.id, action: 'account.reactivate', target: id });
      return { account: adminView(account) };
    }),
  );

  app.get('/admin/invites', async (request, reply) =>
    counted(context, reply, async () => {
      await requireAdmin(request);
      return { invites: (await accounts.listInvites()).map(inviteView) };
    }),
  );

  app.post('/admin/invites', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const answer = await counted(context, reply, async () => {
      const admin = await requireAdmin(request);
      const body = bodyOf(request.body);
      const hours = wholeNumber(body.expiresInHours, 'expiresInHours', 1, MAX_INVITE_HOURS) ?? DEFAULT_INVITE_HOURS;
      const maxUses = wholeNumber(body.maxUses, 'maxUses', 1, MAX_INVITE_USES) ?? 1;
      const code = randomBytes(24).toString('base64url');
      const now = Date.now();
      const invite = await accounts.createInvite({ codeHash: inviteCodeHash(code), createdBy: admin.id, expiresAt: now + hours * 3_600_000, maxUses, now });
      const view = inviteView(invite);
      await recordAdminAction(accounts, logger, { actor: admin.id, action: 'invite.create', detail: `invitation ${view.id}: ${maxUses} use${maxUses === 1 ? '' : 's'}, ${hours} h` });
      const created: CreatedInvite = { invite: view, code, url: `${request.protocol}://${request.host}/?invite=${code}` };
      return created;
    });
    return reply.code(201).send(answer);
  });

  app.delete<{ Params: { id: string } }>('/admin/invites/:id', async (request, reply) => {
    await counted(context, reply, async () => {
      const admin = await requireAdmin(request);
      const invite = (await accounts.listInvites()).find((candidate) => inviteId(candidate) === request.params.id);
      if (!invite || !(await accounts.revokeInvite(invite.codeHash))) throw new HttpError(404, 'There is no such invitation');
      await recordAdminAction(accounts, logger, { actor: admin.id, action: 'invite.revoke', detail: `invitation ${request.params.id}` });
    });
    return reply.code(204).send();
  });
}

function adminView(account: Account): AdminAccountInfo {
  const view: AdminAccountInfo = { id: account.id, username: account.username, displayName: account.displayName, role: account.role, createdAt: account.createdAt };
  if (account.deactivatedAt !== undefined) view.deactivatedAt = account.deactivatedAt;
  return view;
}

/** A public id for an invite: a hash of its code's hash, so the stored hash is not shown either. */
function inviteId(invite: Invite): string {
  return createHash('sha256').update(`invite:${invite.codeHash}`).digest('base64url').slice(0, 16);
}

function inviteView(invite: Invite): InviteInfo {
  const { createdBy, createdAt, expiresAt, maxUses, uses } = invite;
  return { id: inviteId(invite), createdBy, createdAt, expiresAt, maxUses, uses };
}

/** An optional whole number within bounds. @throws HttpError 400 naming the field. */
function wholeNumber(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(400, `${field} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
