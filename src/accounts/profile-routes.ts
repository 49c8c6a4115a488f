/**
 * The signed-in person's own account: what it is, the devices signed in to
 * it, the password, and the profile others see (`/app/account…`).
 */
import type { FastifyInstance } from 'fastify';
import { colorField, displayNameField, gravatarField } from '../chat/profile-fields.js';
import type { AccountInfo, ChatUser, DeviceSession, SignInResult } from '../chat/protocol.js';
import { disconnectUserEverywhere } from '../cluster/user-disconnect.js';
import { bodyOf, HttpError, requiredString } from '../http/app-errors.js';
import { Disconnects } from '../protocol/errors.js';
import { admitPasswordAttempt, counted, requireAccount, requireSignedIn, type AccountRoutesContext } from './account-context.js';
import { hashPassword, passwordProblem, verifyPassword } from './password.js';
import { accountInfo, accountSignIn, accountUser, guestInfo, guestSignIn } from './sign-in-result.js';

const BODY_LIMIT = 4 * 1024;

export function registerProfileRoutes(app: FastifyInstance, context: AccountRoutesContext): void {
  const { config, accounts, chat } = context;

  app.get('/account', async (request, reply): Promise<AccountInfo> =>
    counted(context, reply, async () => {
      const signedIn = await requireSignedIn(context, request);
      if (signedIn.kind === 'guest') return guestInfo(signedIn.user, signedIn.since);
      return accountInfo(signedIn.account, await accountUser(chat, signedIn.account));
    }),
  );

  app.get('/account/sessions', async (request, reply): Promise<{ sessions: DeviceSession[] }> =>
    counted(context, reply, async () => {
      const { account, session: current } = await requireAccount(context, request);
      const sessions = await accounts.listSessions(account.id, Date.now());
      return {
        sessions: sessions.map((session) => ({
          id: session.id,
          device: session.device,
          createdAt: session.createdAt,
          lastUsedAt: session.lastUsedAt,
          current: session.id === current.id,
        })),
      };
    }),
  );

  app.delete<{ Params: { id: string } }>('/account/sessions/:id', async (request, reply) => {
    await counted(context, reply, async () => {
      const { account } = await requireAccount(context, request);
      const id = request.params.id;
      if (!(await accounts.revokeSessionById(account.id, id))) throw new HttpError(404, 'That device is not signed in');
      await disconnectUserEverywhere(context.disconnects, account.id, Disconnects.signedOut, { accountSession: id });
    });
    return reply.code(204).send();
  });

  app.post('/account/password', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const body = bodyOf(request.body);
    const currentPassword = requiredString(body, 'currentPassword');
    const newPassword = requiredString(body, 'newPassword');
    const problem = passwordProblem(newPassword);
    if (problem) throw new HttpError(400, `The new ${problem}`);
    await counted(context, reply, async () => {
      const { account, session } = await requireAccount(context, request);
      await admitPasswordAttempt(context.passwordLimits, request, reply, account.username);
      if (!(await verifyPassword(currentPassword, account.passwordHash))) throw new HttpError(403, 'Your current password is wrong');
      const others = (await accounts.listSessions(account.id, Date.now())).filter((other) => other.id !== session.id);
      await accounts.setPassword(account.id, await hashPassword(newPassword), Date.now());
      // Whoever knew the old password is signed out on every other device.
      await accounts.revokeAllSessions(account.id, session.tokenHash);
      await Promise.all(others.map((other) => disconnectUserEverywhere(context.disconnects, account.id, Disconnects.signedOut, { accountSession: other.id })));
    });
    return reply.code(204).send();
  });

  app.post('/account/profile', { bodyLimit: BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
    const body = bodyOf(request.body);
    const name = displayNameField(body.displayName);
    const color = colorField(body.color);
    const avatar = gravatarField(body.email);
    return counted(context, reply, async () => {
      const signedIn = await requireSignedIn(context, request);
      const before = signedIn.kind === 'account' ? await accountUser(chat, signedIn.account) : signedIn.user;
      const user: ChatUser = { ...before, ...(name === undefined ? {} : { name }), ...(color === undefined ? {} : { color }) };
      if (avatar === '') delete user.avatar;
      else if (avatar !== undefined) user.avatar = avatar;
      await chat.upsertUser(user, Date.now());
      if (signedIn.kind === 'guest') return guestSignIn(user, signedIn.since, config);
      if (name !== undefined) await accounts.setDisplayName(signedIn.account.id, name);
      const account = { ...signedIn.account, displayName: user.name };
      return accountSignIn(account, user, signedIn.session.id, config);
    });
  });
}
