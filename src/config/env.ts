/**
 * The one place environment variables map to configuration keys. Nothing
 * else in the server reads `process.env` for configuration.
 */
import type { ScalarKey } from './fields.js';
import { deepFreeze } from './freeze.js';

/** One environment variable and the configuration key it sets. */
export interface EnvVar {
  /** Variable name, e.g. `PARLEY_PORT`. */
  readonly name: string;
  /** Configuration key it sets. */
  readonly key: ScalarKey;
  /** What the text means, for documentation. */
  readonly description: string;
}

/**
 * Every environment variable the server reads. When two variables set the
 * same key, the later one in this table wins: `PARLEY_PORT` over `PORT`
 * (platforms set `PORT`; a `PARLEY_` variable is a deliberate choice).
 * Values are parsed like flag values: numbers as decimal text, booleans as
 * `true`/`false` (or 1/0, yes/no, on/off), lists comma-separated.
 */
export const ENV_VARS: readonly EnvVar[] = deepFreeze<EnvVar[]>([
  { name: 'HOST', key: 'host', description: 'interface to listen on' },
  { name: 'PARLEY_HOST', key: 'host', description: 'interface to listen on (wins over HOST)' },
  { name: 'PORT', key: 'port', description: 'TCP port; 0 picks a free one' },
  { name: 'PARLEY_PORT', key: 'port', description: 'TCP port (wins over PORT)' },
  { name: 'PARLEY_DATA_DIR', key: 'dataDir', description: 'directory for the database and generated secrets' },
  { name: 'PARLEY_TOKEN_SECRET', key: 'tokenSecret', description: 'HMAC secret for tokens (32 bytes or more recommended)' },
  { name: 'PARLEY_TOKEN_PUBLIC_KEY', key: 'tokenPublicKey', description: 'PEM public key(s) for tokens, or a file holding them' },
  { name: 'PARLEY_TOKEN_JWKS_URL', key: 'tokenJwksUrl', description: 'JSON Web Key Set URL of your identity provider' },
  { name: 'PARLEY_TOKEN_JWKS_ALLOW_HTTP', key: 'tokenJwksAllowHttp', description: 'allow an http JWKS URL on a non-loopback host' },
  { name: 'PARLEY_TOKEN_JWKS_CACHE_TTL', key: 'tokenJwksCacheTtl', description: 'how long fetched token keys are used' },
  { name: 'PARLEY_TOKEN_JWKS_COOLDOWN', key: 'tokenJwksCooldown', description: 'least time between two JWKS fetches' },
  { name: 'PARLEY_TOKEN_JWKS_TIMEOUT', key: 'tokenJwksTimeout', description: 'how long one JWKS fetch may take' },
  { name: 'PARLEY_TOKEN_ISSUER', key: 'tokenIssuer', description: 'required iss claim of tokens' },
  { name: 'PARLEY_TOKEN_AUDIENCE', key: 'tokenAudience', description: 'required aud claim of tokens' },
  { name: 'PARLEY_API_KEY', key: 'apiKey', description: 'key for the server HTTP API (at least 16 bytes)' },
  { name: 'PARLEY_ALLOWED_ORIGINS', key: 'allowedOrigins', description: 'comma-separated WebSocket origins, or *' },
  { name: 'PARLEY_TRUST_PROXY', key: 'trustProxy', description: 'comma-separated addresses of reverse proxies to believe' },
  { name: 'PARLEY_LOG_LEVEL', key: 'logLevel', description: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'PARLEY_LOG_FILE', key: 'logFile', description: 'also write logs to this file' },
  { name: 'PARLEY_LOG_FORMAT', key: 'logFormat', description: 'pretty, json, or auto (pretty on a terminal)' },
  { name: 'PARLEY_MAX_MESSAGE_SIZE', key: 'maxMessageSize', description: 'largest WebSocket message in bytes' },
  { name: 'PARLEY_ALLOW_ANONYMOUS', key: 'allowAnonymous', description: 'allow connections without a token' },
  { name: 'PARLEY_AUTH_MODE', key: 'authMode', description: 'who may join: open, invite, guest or token' },
  { name: 'PARLEY_GUEST_SIGN_IN', key: 'guestSignIn', description: 'older form of authMode guest (true) or invite (false)' },
  { name: 'PARLEY_REDIS_URL', key: 'redisUrl', description: 'Redis for a cluster (redis://host:port)' },
  { name: 'PARLEY_REDIS_PREFIX', key: 'redisPrefix', description: 'prefix of every Redis key of this deployment' },
  { name: 'PARLEY_POSTGRES_URL', key: 'postgresUrl', description: 'PostgreSQL instead of embedded SQLite (postgres://…)' },
  { name: 'PARLEY_CONNECT_PROXY_URL', key: 'connectProxyUrl', description: 'backend that authenticates connections without a token' },
  { name: 'PARLEY_REFRESH_PROXY_URL', key: 'refreshProxyUrl', description: 'backend that extends proxy-authenticated connections' },
  { name: 'PARLEY_SUBSCRIBE_PROXY_URL', key: 'subscribeProxyUrl', description: 'backend that decides subscribes (namespaces with proxySubscribe)' },
  { name: 'PARLEY_PUBLISH_PROXY_URL', key: 'publishProxyUrl', description: 'backend that validates publications (namespaces with proxyPublish)' },
  { name: 'PARLEY_RPC_PROXY_URL', key: 'rpcProxyUrl', description: 'backend that answers rpc methods the server does not have' },
  { name: 'PARLEY_TOKEN_URL', key: 'tokenUrl', description: 'where the web app gets tokens (authMode token)' },
]);

/** A configuration value found in the environment. */
export interface EnvValue {
  readonly key: ScalarKey;
  readonly value: string;
  /** The variable it came from. */
  readonly name: string;
}

/**
 * The configuration values set in `env`, in {@link ENV_VARS} order (so a
 * later entry for the same key overrides an earlier one). An empty variable
 * counts as unset, because container tooling often passes empty variables
 * for options the operator did not fill in.
 */
export function readEnv(env: NodeJS.ProcessEnv): EnvValue[] {
  const values: EnvValue[] = [];
  for (const { name, key } of ENV_VARS) {
    const value = env[name];
    if (value !== undefined && value !== '') values.push({ key, value, name });
  }
  return values;
}
