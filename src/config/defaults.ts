/**
 * Default configuration: the `@default` values documented in `types.ts`, and
 * the built-in namespaces the chat features rely on.
 */
import { deepFreeze } from './freeze.js';
import type { Config, NamespaceOptions } from './types.js';

/**
 * Options of channels without a namespace (no colon in the name), and the
 * base of every namespace the config file defines that is not built in.
 * Plain broadcast: no presence, no history.
 */
export const DEFAULT_NAMESPACE: Readonly<NamespaceOptions> = deepFreeze({
  presence: false,
  joinLeave: false,
  joinLeaveMaxClients: 100,
  historySize: 0,
  historyTtl: 0,
  recover: false,
  allowPublish: true,
  allowSubscribe: true,
  allowPresence: true,
  allowHistory: true,
  membersFromName: false,
  proxySubscribe: false,
  proxyPublish: false,
  allowedDeltaTypes: [],
});

/**
 * Namespaces that exist without any configuration; a config file entry of the
 * same name is merged over them.
 * - `room`: public chat rooms with a live member list and durable history;
 * - `dm`: `dm:alice,bob` — a private conversation readable only by the users named;
 * - `user`: `user:alice` — a personal inbox the server publishes to (clients cannot).
 */
export const BUILTIN_NAMESPACES: Readonly<Record<string, Readonly<NamespaceOptions>>> = deepFreeze({
  room: {
    presence: true,
    joinLeave: true,
    joinLeaveMaxClients: 100,
    historySize: 1000,
    historyTtl: 0,
    recover: true,
    allowPublish: true,
    allowSubscribe: true,
    allowPresence: true,
    allowHistory: true,
    membersFromName: false,
    proxySubscribe: false,
    proxyPublish: false,
    allowedDeltaTypes: [],
  },
  dm: {
    presence: true,
    joinLeave: false,
    joinLeaveMaxClients: 100,
    historySize: 1000,
    historyTtl: 0,
    recover: true,
    allowPublish: 'members',
    allowSubscribe: 'members',
    allowPresence: 'members',
    allowHistory: 'members',
    membersFromName: true,
    proxySubscribe: false,
    proxyPublish: false,
    allowedDeltaTypes: [],
  },
  user: {
    presence: false,
    joinLeave: false,
    joinLeaveMaxClients: 100,
    historySize: 100,
    historyTtl: 86_400,
    recover: true,
    allowPublish: false,
    allowSubscribe: 'members',
    allowPresence: false,
    allowHistory: 'members',
    membersFromName: true,
    proxySubscribe: false,
    proxyPublish: false,
    allowedDeltaTypes: [],
  },
});

/**
 * The configuration used when nothing is configured. `dataDir` is still
 * relative here; `loadConfig` resolves it. Empty secrets mean "generate into
 * the data dir" (see `secrets.ts`).
 */
export const DEFAULT_CONFIG: Config = deepFreeze({
  host: '0.0.0.0',
  port: 8080,
  dataDir: './data',
  tokenSecret: '',
  tokenPublicKey: '',
  tokenJwksUrl: '',
  tokenJwksAllowHttp: false,
  tokenJwksCacheTtl: 600,
  tokenJwksCooldown: 10,
  tokenJwksTimeout: 5,
  tokenIssuer: '',
  tokenAudience: '',
  apiKey: '',
  allowedOrigins: [],
  trustProxy: [],
  logLevel: 'info',
  logFile: '',
  logFormat: 'auto',
  maxMessageSize: 65_536,
  commandRateLimit: 100,
  commandBurst: 200,
  maxQueuedBytes: 1_048_576,
  pingInterval: 25,
  pongTimeout: 10,
  connectTimeout: 10,
  historyMaxLimit: 1000,
  historyMaxBytes: 4_194_304,
  recoveryMaxPublications: 1000,
  recoveryMaxBytes: 4_194_304,
  presenceMaxClients: 1000,
  maxChannelsPerConnection: 256,
  shutdownTimeout: 10,
  allowAnonymous: false,
  authMode: 'open',
  guestSignIn: false,
  sessionTtl: 30 * 86_400,
  guestSignInBurst: 300,
  guestSignInsPerMinute: 60,
  tokenRequestBurst: 1000,
  tokenRequestsPerMinute: 600,
  passwordAttemptBurst: 30,
  passwordAttemptsPerMinute: 10,
  tokenUrl: '',
  guestExpiry: 2_592_000,
  redisUrl: '',
  redisPrefix: 'parley:',
  postgresUrl: '',
  connectProxyUrl: '',
  refreshProxyUrl: '',
  subscribeProxyUrl: '',
  publishProxyUrl: '',
  rpcProxyUrl: '',
  proxyTimeout: 1,
  proxyHttpHeaders: [],
  proxyEmulatedHeaders: [],
  defaultNamespace: DEFAULT_NAMESPACE,
  namespaces: BUILTIN_NAMESPACES,
});
