/**
 * The validated, frozen configuration every part of the server reads.
 * `schema.ts` builds it once at start-up from defaults, the config file,
 * the environment and flags; nothing else parses configuration.
 */
import type { DeltaType } from '../protocol/commands.js';

/**
 * Who may perform an operation on a channel of a namespace:
 * - `true`: any authenticated connection;
 * - `false`: no client (the server API still can);
 * - `"members"`: only users listed in the channel name (see {@link NamespaceOptions.membersFromName}).
 */
export type AccessRule = boolean | 'members';

/** Options of the channels in one namespace (`ns:name` takes the options of `ns`). */
export interface NamespaceOptions {
  /** Keep presence (who is subscribed). @default false */
  presence: boolean;
  /** Push join and leave events to subscribers. @default false */
  joinLeave: boolean;
  /**
   * With `joinLeave`: join and leave events stop being pushed in a channel
   * once more than this many connections are present in it, and are pushed
   * again once it is back to 80% of it or fewer, so that each subscriber's
   * presence traffic stays bounded however big the channel grows. Presence
   * itself (`presence`, `presence_stats`) stays exact. @default 100
   */
  joinLeaveMaxClients: number;
  /** Publications kept per channel; 0 keeps no history. @default 0 */
  historySize: number;
  /** Seconds a publication stays in history; 0 keeps it until trimmed by size. Config accepts a duration string (`"7d"`). @default 0 */
  historyTtl: number;
  /** Let clients recover missed publications on resubscribe (needs history). @default false */
  recover: boolean;
  /** Who may publish from a client. @default true */
  allowPublish: AccessRule;
  /** Who may subscribe. @default true */
  allowSubscribe: AccessRule;
  /** Who may call presence and presence_stats. @default true */
  allowPresence: AccessRule;
  /** Who may read history. @default true */
  allowHistory: AccessRule;
  /**
   * The part of the channel name after `ns:` is a comma-separated list of
   * user ids: the channel's members, for `"members"` rules. With two or
   * more ids they must be in ascending order, so each group has one channel.
   * @default false
   */
  membersFromName: boolean;
  /**
   * A client subscribe without a subscription token is decided by the
   * backend at `subscribeProxyUrl` instead of `allowSubscribe` (see the
   * README's "Backend proxy"). Needs `subscribeProxyUrl`. @default false
   */
  proxySubscribe: boolean;
  /**
   * A client publish is validated (and may be rewritten) by the backend at
   * `publishProxyUrl` instead of `allowPublish`. Needs `publishProxyUrl`. @default false
   */
  proxyPublish: boolean;
  /**
   * Delta compression subscriptions may ask for: with `["fossil"]`, a
   * subscriber asking for `fossil` gets each publication as a fossil delta
   * from the previous one it was sent, when that is smaller. Needs history
   * (the delta chain follows offsets). @default []
   */
  allowedDeltaTypes: readonly DeltaType[];
}

/**
 * Who may join the chat through the bundled web app:
 * - `open`: anyone can sign up for an account;
 * - `invite`: signing up needs an invitation an admin made;
 * - `guest`: anyone signs in as a guest with just a name (demos, kiosks);
 * - `token`: your backend mints connection tokens at `tokenUrl`.
 */
export type AuthMode = 'open' | 'invite' | 'guest' | 'token';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** How log lines on stdout look: `pretty` for a person at a terminal, `json` (JSON lines) for machines, `auto` picks by whether stdout is a terminal. */
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface Config {
  /** Interface to listen on. Env `HOST`, `PARLEY_HOST` (wins). @default "0.0.0.0" */
  host: string;
  /** TCP port; 0 picks a free one. Env `PORT`, `PARLEY_PORT` (wins). @default 8080 */
  port: number;
  /** Directory for the SQLite database and generated secrets; always absolute once loaded (resolved against the working directory). Env `PARLEY_DATA_DIR`. @default "./data" */
  dataDir: string;
  /**
   * HMAC secret for connection and subscription tokens (HS256, HS384,
   * HS512); the server signs its own tokens (web app, `/auth`, `parley
   * token`) with it, HS256. Shorter than 32 bytes is accepted with a
   * warning at start-up. Env `PARLEY_TOKEN_SECRET`. Generated into the data dir when absent.
   */
  tokenSecret: string;
  /**
   * Public keys that verify tokens from your identity provider: PEM text
   * (SPKI `PUBLIC KEY` blocks, or `RSA PUBLIC KEY`), or the path of a file
   * holding it (absolute once loaded); one or more keys, RSA (2048 bits or
   * more: RS256/384/512, PS256/384/512), EC (P-256: ES256, P-384: ES384,
   * P-521: ES512) or Ed25519 (EdDSA). Env `PARLEY_TOKEN_PUBLIC_KEY`. @default ""
   */
  tokenPublicKey: string;
  /**
   * URL of your identity provider's JSON Web Key Set, e.g.
   * `https://keycloak.example.com/realms/acme/protocol/openid-connect/certs`:
   * tokens with RS, PS, ES or EdDSA algorithms are verified with its keys,
   * chosen by `kid`. `https` unless the host is loopback or
   * `tokenJwksAllowHttp` is set. Env `PARLEY_TOKEN_JWKS_URL`. @default ""
   */
  tokenJwksUrl: string;
  /** Allow an `http` `tokenJwksUrl` on a host other than loopback (a private network). Env `PARLEY_TOKEN_JWKS_ALLOW_HTTP`. @default false */
  tokenJwksAllowHttp: boolean;
  /** Seconds the fetched key set is used before it is fetched again (in the background). Env `PARLEY_TOKEN_JWKS_CACHE_TTL`. @default 600 */
  tokenJwksCacheTtl: number;
  /**
   * Least seconds between two fetches of the key set: a token naming an
   * unknown `kid` (a rotated key) makes the server look again, at most this
   * often, however many such tokens arrive; also the pause after a failed
   * fetch. Env `PARLEY_TOKEN_JWKS_COOLDOWN`. @default 10
   */
  tokenJwksCooldown: number;
  /** Seconds one fetch of the key set may take. Env `PARLEY_TOKEN_JWKS_TIMEOUT`. @default 5 */
  tokenJwksTimeout: number;
  /** Required `iss` claim of every connection and subscription token; "" checks none. Env `PARLEY_TOKEN_ISSUER`. @default "" */
  tokenIssuer: string;
  /**
   * Required `aud` of every connection and subscription token (the claim
   * may be this string or an array holding it); "" checks none. Env `PARLEY_TOKEN_AUDIENCE`. @default ""
   */
  tokenAudience: string;
  /** Key for the server HTTP API, at least 16 bytes. Env `PARLEY_API_KEY`. Generated into the data dir when absent. */
  apiKey: string;
  /**
   * Origins allowed to open WebSockets, e.g. `https://chat.example.com`; `*` allows any.
   * Empty: only same-origin browsers (and non-browser clients, which send no Origin).
   * Stored normalized as browsers send them (lower case, default port dropped).
   * Env `PARLEY_ALLOWED_ORIGINS` (comma-separated). @default []
   */
  allowedOrigins: readonly string[];
  /**
   * Addresses of reverse proxies to believe (IPs, CIDR ranges, or `loopback`,
   * `linklocal`, `uniquelocal`): a request from one of them is taken to come
   * from the client its `X-Forwarded-For` names (rate limits count that
   * address) and over the protocol its `X-Forwarded-Proto` says (the
   * sign-in cookie is `Secure` over HTTPS). Env `PARLEY_TRUST_PROXY`
   * (comma-separated). @default [] (forwarded headers are ignored)
   */
  trustProxy: readonly string[];
  /** Env `PARLEY_LOG_LEVEL`. @default "info" */
  logLevel: LogLevel;
  /** Also write logs to this file; absolute once loaded. Env `PARLEY_LOG_FILE`. @default "" (stdout only) */
  logFile: string;
  /**
   * How stdout's log lines look: `pretty` (one readable, colored line per
   * event), `json` (JSON lines, pino's format), `auto` (pretty when stdout
   * is a terminal, else JSON). The log file is always JSON lines.
   * Env `PARLEY_LOG_FORMAT`. @default "auto"
   */
  logFormat: LogFormat;
  /** Largest WebSocket message accepted, in bytes (1 KiB to 16 MiB). Env `PARLEY_MAX_MESSAGE_SIZE`. @default 65536 */
  maxMessageSize: number;
  /** Sustained commands per second allowed per connection. @default 100 */
  commandRateLimit: number;
  /** Commands a connection may send in a burst above the rate. @default 200 */
  commandBurst: number;
  /** Bytes queued for one connection before it is disconnected as slow; at least `maxMessageSize`. @default 1048576 */
  maxQueuedBytes: number;
  /** Seconds between server pings. Config accepts a duration string (`"25s"`), as do the other timeouts. @default 25 */
  pingInterval: number;
  /** Seconds to wait for a pong before closing; less than `pingInterval`. @default 10 */
  pongTimeout: number;
  /** Seconds a new connection has to send its connect command. @default 10 */
  connectTimeout: number;
  /** Largest page a history request may return. @default 1000 */
  historyMaxLimit: number;
  /**
   * Bytes (publication data, info and tags) a history page may hold; a page
   * ends before the publication that would pass it, so the client pages on.
   * @default 4194304
   */
  historyMaxBytes: number;
  /**
   * Most publications a resubscribing client can recover; when it missed
   * more, the reply is `recovered: false` with none (or error 112 when the
   * client asked to reject an unrecoverable position). @default 1000
   */
  recoveryMaxPublications: number;
  /** Most bytes (as `historyMaxBytes` counts them) a client can recover; past it, as past `recoveryMaxPublications`. @default 4194304 */
  recoveryMaxBytes: number;
  /**
   * Largest channel presence a `presence` request (client command or server
   * API) may list; bigger channels answer error 106 and are read with
   * `presence_stats` (exact counts) or paged lists such as `chat.members`. @default 1000
   */
  presenceMaxClients: number;
  /** Subscriptions one connection may hold. @default 256 */
  maxChannelsPerConnection: number;
  /** Seconds to wait for clients and writes on shutdown. @default 10 */
  shutdownTimeout: number;
  /** Allow connections without a token (user ""). Env `PARLEY_ALLOW_ANONYMOUS`. @default false */
  allowAnonymous: boolean;
  /**
   * Who may join (see {@link AuthMode}). When not given: `token` if
   * `tokenUrl` is set, else `guest` if `guestSignIn` is `true`, else
   * `invite` if `guestSignIn` is `false`, else `open`. Env `PARLEY_AUTH_MODE`. @default "open"
   */
  authMode: AuthMode;
  /**
   * Kept for config files written before `authMode`: once loaded it is
   * `authMode === "guest"`. Given without `authMode`, `true` means `guest`
   * and `false` means `invite` (or `token` with `tokenUrl`); given with an
   * `authMode` it must agree. Env `PARLEY_GUEST_SIGN_IN`.
   */
  guestSignIn: boolean;
  /**
   * Seconds an account's sign-in session lives after its last use (sliding):
   * a device unused this long signs in again. Config accepts a duration
   * string (`"30d"`). @default 2592000 (30 days)
   */
  sessionTtl: number;
  /**
   * Guest sign-ins (`POST /app/guest`) one client address may make at once.
   * Everyone behind one NAT (an office) shares an address, so this is sized
   * for a whole office arriving together. @default 300
   */
  guestSignInBurst: number;
  /** Guest sign-ins per minute one client address may sustain after its burst. @default 60 */
  guestSignInsPerMinute: number;
  /**
   * Token requests (`POST /app/token` renewals, `POST /auth`, which its
   * clients call every 3 minutes) one client address may make at once. @default 1000
   */
  tokenRequestBurst: number;
  /** Token requests per minute one client address may sustain after its burst. @default 600 */
  tokenRequestsPerMinute: number;
  /**
   * Password attempts (sign-in, sign-up, claiming a guest identity, password
   * change) one client address may make at once. Each username also has a
   * budget of its own across all addresses (10 at once, then 5 a minute),
   * so a brute force spread over many addresses is throttled too. @default 30
   */
  passwordAttemptBurst: number;
  /** Password attempts per minute one client address may sustain after its burst. @default 10 */
  passwordAttemptsPerMinute: number;
  /**
   * With `authMode` `token` (implied when this is set): a URL of your backend
   * that the web app fetches (GET, with cookies) to get `{ user, token }`.
   * Env `PARLEY_TOKEN_URL`. @default ""
   */
  tokenUrl: string;
  /**
   * Seconds after which a guest without an account who has not been seen
   * (connected to the chat) is removed from rooms' member lists and from
   * the people directory; their messages stay. 0 keeps guests for good.
   * @default 2592000 (30 days)
   */
  guestExpiry: number;
  /**
   * Redis for a cluster (`redis://[user:password@]host:port[/db]`): the bus
   * between nodes, presence, the node registry and shared rate limits. Needs
   * `postgresUrl`, and an explicit `tokenSecret` and `apiKey` (the same on
   * every node). Secret: never logged. Env `PARLEY_REDIS_URL`. @default "" (one process, in memory)
   */
  redisUrl: string;
  /**
   * Prepended to every Redis key and PUB/SUB channel of this deployment, so
   * several deployments can share one Redis. Letters, digits and `:_.-`.
   * Env `PARLEY_REDIS_PREFIX`. @default "parley:"
   */
  redisPrefix: string;
  /**
   * PostgreSQL for streams and chat data (`postgres://user:password@host:port/db`),
   * instead of SQLite files in `dataDir`. Its schema is created and migrated
   * at start (or by `parley migrate`). Secret: never logged.
   * Env `PARLEY_POSTGRES_URL`. @default "" (embedded SQLite)
   */
  postgresUrl: string;
  /**
   * Backend proxy (Centrifugo's HTTP proxy shapes): `http(s)://` URLs your
   * backend answers POST JSON on. A connection without a token is
   * authenticated by `connectProxyUrl`; `refreshProxyUrl` extends the
   * connections it gave an `expire_at`; `subscribeProxyUrl` and
   * `publishProxyUrl` decide for namespaces with `proxySubscribe` and
   * `proxyPublish`; `rpcProxyUrl` answers rpc methods the server does not
   * have. @default "" (not used)
   */
  connectProxyUrl: string;
  /** See {@link connectProxyUrl}. @default "" */
  refreshProxyUrl: string;
  /** See {@link connectProxyUrl}. @default "" */
  subscribeProxyUrl: string;
  /** See {@link connectProxyUrl}. @default "" */
  publishProxyUrl: string;
  /** See {@link connectProxyUrl}. @default "" */
  rpcProxyUrl: string;
  /** Seconds a backend proxy call may take before the client gets a temporary error. Config accepts a duration string (`"500ms"`). @default 1 */
  proxyTimeout: number;
  /**
   * Request headers of the WebSocket upgrade forwarded to every backend
   * proxy call, by name (case-insensitive), e.g. `["Cookie", "Authorization"]`.
   * Only these are sent: `Cookie` only when named here. @default []
   */
  proxyHttpHeaders: readonly string[];
  /**
   * Headers a client sends inside its connect command (headers emulation:
   * the SDK's `headers` option) forwarded to every backend proxy call, by
   * name (case-insensitive). Separate from {@link proxyHttpHeaders} because
   * the client writes them: never list a header the backend trusts (a
   * cookie, a user id set by a gateway). A real header of the same name
   * wins. @default []
   */
  proxyEmulatedHeaders: readonly string[];
  /** Options of channels without a namespace. */
  defaultNamespace: NamespaceOptions;
  /**
   * Options per namespace; built-in: `room`, `dm`, `user`. A null-prototype
   * object, so `namespaces[prefix]` is `undefined` for any unknown prefix
   * (including `constructor` or `__proto__`).
   */
  namespaces: Readonly<Record<string, NamespaceOptions>>;
}
