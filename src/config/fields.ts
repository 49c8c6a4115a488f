/**
 * The configuration schema: every key that exists and what it accepts.
 * Unknown keys are errors, so a key missing here cannot be configured.
 */
import { DELTA_TYPES } from '../protocol/commands.js';
import type { AuthMode, Config, LogFormat, LogLevel, NamespaceOptions } from './types.js';
import {
  accessRule,
  boolean,
  duration,
  headerNames,
  integer,
  keyPrefix,
  listOf,
  oneOf,
  origins,
  positiveNumber,
  proxyAddresses,
  secret,
  serviceUrl,
  text,
  type Check,
} from './validate.js';

/** Top-level keys with a single value: the ones flags and environment variables can set. */
export type ScalarKey = Exclude<keyof Config, 'defaultNamespace' | 'namespaces'>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'pretty', 'json'];
const AUTH_MODES: readonly AuthMode[] = ['open', 'invite', 'guest', 'token'];

// Node timers fire at once (with a warning) beyond 2^31-1 ms, so timer settings stop just short of it.
const MAX_TIMER_SECONDS = 2_147_483;

/** Checks for every top-level scalar key. */
export const SCALAR_FIELDS: { readonly [K in ScalarKey]: Check<Config[K]> } = {
  host: text({ nonEmpty: true }),
  port: integer(0, 65_535),
  dataDir: text({ nonEmpty: true }),
  // RFC 7518 §3.2 asks for an HMAC key as long as the hash; shorter ones (from Centrifugo) are accepted with a start-up warning.
  tokenSecret: secret(1),
  tokenPublicKey: text(),
  tokenJwksUrl: serviceUrl(['https:', 'http:']),
  tokenJwksAllowHttp: boolean(),
  tokenJwksCacheTtl: duration({ positive: true, max: MAX_TIMER_SECONDS }),
  tokenJwksCooldown: duration({ positive: true, max: 86_400 }),
  tokenJwksTimeout: duration({ positive: true, max: 60 }),
  tokenIssuer: text(),
  tokenAudience: text(),
  apiKey: secret(16),
  allowedOrigins: origins(),
  trustProxy: proxyAddresses(),
  logLevel: oneOf(LOG_LEVELS),
  logFile: text(),
  logFormat: oneOf(LOG_FORMATS),
  maxMessageSize: integer(1024, 16 * 1024 * 1024),
  commandRateLimit: positiveNumber(),
  commandBurst: integer(1),
  maxQueuedBytes: integer(1),
  pingInterval: duration({ positive: true, max: MAX_TIMER_SECONDS }),
  pongTimeout: duration({ positive: true, max: MAX_TIMER_SECONDS }),
  connectTimeout: duration({ positive: true, max: MAX_TIMER_SECONDS }),
  historyMaxLimit: integer(1),
  historyMaxBytes: integer(1024),
  recoveryMaxPublications: integer(1),
  recoveryMaxBytes: integer(1024),
  presenceMaxClients: integer(1),
  maxChannelsPerConnection: integer(1),
  shutdownTimeout: duration({ max: MAX_TIMER_SECONDS }),
  allowAnonymous: boolean(),
  authMode: oneOf(AUTH_MODES),
  guestSignIn: boolean(),
  sessionTtl: duration({ positive: true, max: 10 * 365 * 86_400 }),
  guestSignInBurst: integer(1),
  guestSignInsPerMinute: positiveNumber(),
  tokenRequestBurst: integer(1),
  tokenRequestsPerMinute: positiveNumber(),
  passwordAttemptBurst: integer(1),
  passwordAttemptsPerMinute: positiveNumber(),
  tokenUrl: text(),
  guestExpiry: duration(),
  redisUrl: serviceUrl(['redis:', 'rediss:']),
  redisPrefix: keyPrefix(),
  postgresUrl: serviceUrl(['postgres:', 'postgresql:']),
  connectProxyUrl: serviceUrl(['http:', 'https:']),
  refreshProxyUrl: serviceUrl(['http:', 'https:']),
  subscribeProxyUrl: serviceUrl(['http:', 'https:']),
  publishProxyUrl: serviceUrl(['http:', 'https:']),
  rpcProxyUrl: serviceUrl(['http:', 'https:']),
  proxyTimeout: duration({ positive: true, max: 60 }),
  proxyHttpHeaders: headerNames(),
  proxyEmulatedHeaders: headerNames(),
};

/** Every top-level scalar key, in declaration order. */
export const SCALAR_KEYS = Object.keys(SCALAR_FIELDS) as readonly ScalarKey[];

/** Boolean keys, which flags set by their presence (`--allow-anonymous`) rather than with a value. */
export const SWITCH_KEYS: ReadonlySet<ScalarKey> = new Set<ScalarKey>(['allowAnonymous', 'guestSignIn', 'tokenJwksAllowHttp']);

/** Checks for every namespace option. */
export const NAMESPACE_FIELDS: { readonly [K in keyof NamespaceOptions]: Check<NamespaceOptions[K]> } = {
  presence: boolean(),
  joinLeave: boolean(),
  joinLeaveMaxClients: integer(1),
  historySize: integer(0),
  historyTtl: duration(),
  recover: boolean(),
  allowPublish: accessRule(),
  allowSubscribe: accessRule(),
  allowPresence: accessRule(),
  allowHistory: accessRule(),
  membersFromName: boolean(),
  proxySubscribe: boolean(),
  proxyPublish: boolean(),
  allowedDeltaTypes: listOf(oneOf(DELTA_TYPES)),
};

/** Every namespace option key. */
export const NAMESPACE_KEYS = Object.keys(NAMESPACE_FIELDS) as readonly (keyof NamespaceOptions)[];

/** Namespace names: they are the part of a channel name before the colon. */
export const NAMESPACE_NAME = /^[A-Za-z0-9_.-]+$/;

/** True if `key` is a top-level scalar key. */
export function isScalarKey(key: string): key is ScalarKey {
  return Object.hasOwn(SCALAR_FIELDS, key);
}

/** True if `key` is a namespace option key. */
export function isNamespaceKey(key: string): key is keyof NamespaceOptions {
  return Object.hasOwn(NAMESPACE_FIELDS, key);
}
