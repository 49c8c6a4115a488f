import type { FastifyInstance } from 'fastify';
import { counted, passwordLimits, type AccountRoutesContext } from '../accounts/account-context.js';
import { registerAccountRoutes } from '../accounts/account-routes.js';
import type { AccountStore } from '../accounts/account-store.js';
import { registerAdminRoutes } from '../accounts/admin-routes.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/password.js';
import { registerProfileRoutes } from '../accounts/profile-routes.js';
import { newRefreshToken, refreshTokenHash, setSessionCookie } from '../accounts/session-cookie.js';
import { guestSignIn } from '../accounts/sign-in-result.js';
import type { UserDisconnectParts } from '../cluster/user-disconnect.js';
import type { Config } from '../config/types.js';
import { answerErrorsAsJson, bodyOf, HttpError } from '../http/app-errors.js';
import { admit, memoryAddressLimiters, tryAgainIn, type AddressLimiters } from '../http/address-limit.js';
import { refuseCrossSiteWrites } from '../http/cross-site-guard.js';
import type { Logger } from '../log/logger.js';
import type { ChatStore } from './chat-store.js';
import type { InFlight } from './in-flight.js';
import { randomColor, randomName, randomUserId } from './names.js';
import { displayNameField, gravatarField } from './profile-fields.js';
import { MAX_MESSAGE_LENGTH, type AppConfig, type ChatUser, type SignInResult } from './protocol.js';

/** Largest request body of the `/app` routes: they take names, passwords, an email or a token. */
export const APP_BODY_LIMIT = 4 * 1024;

/** What {@link registerAppRoutes} works with. */
export interface AppRoutesOptions {
  config: Config;
  store: ChatStore;
  accounts: AccountStore;
  inFlight: InFlight;
  logger: Logger;
  /** Closes users' connections on every node (sign-out everywhere, deactivation). */
  disconnects: UserDisconnectParts;
  /** Where sign-in, password and token refresh limits count. @default memoryAddressLimiters */
  addressLimiters?: AddressLimiters;
}

/**
 * The web app's routes under `/app`, all JSON with `cache-control: no-store`:
 * - `GET /app/config` → {@link AppConfig};
 * - `POST /app/guest` (authMode `guest`) → {@link SignInResult} and the
 *   session cookie: a guest identity with a random id, the chosen (or a
 *   random) name, a palette color, and from an optional email only its
 *   Gravatar MD5 hash — the email itself is neither stored, logged nor sent;
 * - the account routes (`account-routes.ts`, `profile-routes.ts`,
 *   `admin-routes.ts`).
 *
 * Errors are `{error}` with a message for the user. State-changing requests
 * from other sites are refused (`cross-site-guard.ts`). Passwords, tokens
 * and emails never appear in logs.
 */
export async function registerAppRoutes(http: FastifyInstance, options: AppRoutesOptions): Promise<void> {
  const { config, store, accounts, inFlight, logger } = options;
  // Per client address: a whole office behind one NAT signs in at once; a flood is cut to the sustained rate.
  const limiters = options.addressLimiters ?? memoryAddressLimiters;
  const guestSignIns = limiters('sign-in', { burst: config.guestSignInBurst, perMinute: config.guestSignInsPerMinute });
  const context: AccountRoutesContext = {
    config,
    accounts,
    chat: store,
    inFlight,
    logger,
    disconnects: options.disconnects,
    passwordLimits: passwordLimits(config, limiters),
    // A refresh token cannot be guessed; this bounds the work one address can cause.
    tokenRefreshes: limiters('token-refresh', { burst: config.tokenRequestBurst, perMinute: config.tokenRequestsPerMinute }),
  };

  await http.register(
    async (app) => {
      answerErrorsAsJson(app, logger);
      refuseCrossSiteWrites(app, config.allowedOrigins);
      app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not found' }));

      app.get('/config', async (_request, reply): Promise<AppConfig> => {
        reply.header('cache-control', 'no-store');
        const answer: AppConfig = {
          authMode: config.authMode,
          guestSignIn: config.authMode === 'guest',
          maxMessageLength: MAX_MESSAGE_LENGTH,
          firstAccount: (await accounts.countAdmins()) === 0,
          minPasswordLength: PASSWORD_MIN_LENGTH,
          maxPasswordLength: PASSWORD_MAX_LENGTH,
        };
        if (config.tokenUrl !== '') answer.tokenUrl = config.tokenUrl;
        return answer;
      });

      app.post('/guest', { bodyLimit: APP_BODY_LIMIT }, async (request, reply): Promise<SignInResult> => {
        if (config.authMode !== 'guest') throw new HttpError(403, 'Guest sign-in is turned off on this server');
        const wait = await admit(guestSignIns, request.ip, reply);
        if (wait !== undefined) throw new HttpError(429, `Too many sign-ins from your address; ${tryAgainIn(wait)}`);
        const body = bodyOf(request.body);
        const avatar = gravatarField(body.email);
        const user: ChatUser = { id: randomUserId('g_'), name: displayNameField(body.name) ?? randomName(), color: randomColor() };
        if (avatar) user.avatar = avatar;
        const refreshToken = newRefreshToken();
        const result = await counted(context, reply, async () => {
          const now = Date.now();
          await Promise.all([store.upsertUser(user, now), store.createGuestSession(refreshTokenHash(refreshToken), user, now)]);
          return guestSignIn(user, now, config);
        });
        setSessionCookie(request, reply, refreshToken, config.sessionTtl);
        return result;
      });

      registerAccountRoutes(app, context);
      registerProfileRoutes(app, context);
      registerAdminRoutes(app, context);
    },
    { prefix: '/app' },
  );
}
