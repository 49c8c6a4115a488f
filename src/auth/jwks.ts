/**
 * Public keys published by an identity provider as a JSON Web Key Set
 * (RFC 7517) at `tokenJwksUrl`: fetched, cached, and fetched again when a
 * token names a key the cache does not hold (key rotation), at a bounded
 * pace so that tokens with made-up `kid`s cannot make the server hammer the
 * endpoint.
 */
import { createLocalJWKSet, errors, type CryptoKey, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { fetchFailureCause, readBoundedText } from '../http/outgoing-response.js';
import { TokenError } from './token-error.js';

/** Largest key set read, in bytes; real ones are a few KiB. */
const MAX_JWKS_BYTES = 512 * 1024;
/** Most keys kept from one key set. */
const MAX_JWKS_KEYS = 64;
/** Key types that can verify a signature; symmetric (`oct`) keys never come from a public endpoint. */
const PUBLIC_KEY_TYPES: ReadonlySet<string> = new Set(['RSA', 'EC', 'OKP']);

/** The logging a {@link RemoteKeySet} needs (a pino logger fits). */
export interface KeySetLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** How a {@link RemoteKeySet} fetches and caches. */
export interface RemoteKeySetOptions {
  /** The JWKS URL (already checked: http(s), https unless allowed). */
  readonly url: string;
  /** Milliseconds a fetched key set is used before it is fetched again (in the background). */
  readonly cacheTtlMs: number;
  /** Least milliseconds between two fetches, whatever asks for them. */
  readonly cooldownMs: number;
  /** Milliseconds one fetch may take, body included. */
  readonly timeoutMs: number;
  readonly log: KeySetLog;
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * A remote key set.
 *
 * Guarantees:
 * - at most one fetch runs at a time, and a fetch starts at most once per
 *   `cooldownMs` (whether the previous one succeeded or failed), so the
 *   endpoint gets at most one request per cooldown however many tokens
 *   arrive, with known, unknown or no `kid`;
 * - a key set older than `cacheTtlMs` keeps being used while a fresh one is
 *   fetched; when fetching fails the last good key set stays in use;
 * - a fetch gives up after `timeoutMs`, follows no redirect, and reads at
 *   most 512 KiB; failures are logged as warnings (with the URL's origin and
 *   path only) and never thrown;
 * - only public RSA, EC and OKP keys are used: `oct` keys and keys with
 *   private parts are dropped, so an HMAC token can never be verified with
 *   a key from the set.
 */
export class RemoteKeySet {
  private keys: LocalKeySet | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private lastFailed = false;
  private pending: Promise<void> | undefined;
  private readonly where: string;

  constructor(private readonly options: RemoteKeySetOptions) {
    const url = new URL(options.url);
    this.where = `${url.origin}${url.pathname}`;
  }

  /** Fetches the key set now (at start-up, so the first connects need not wait). Never rejects. */
  async prefetch(): Promise<void> {
    await this.reload();
  }

  /**
   * The keys that may have signed a token with this `alg` and `kid`: one
   * for a `kid` the set holds, several when the token has no `kid` and
   * several keys fit its algorithm.
   *
   * @throws TokenError `unavailable` when the key set cannot be fetched (and
   * none is cached, or the last fetch failed while looking for this `kid`);
   * `key` when the fetched key set holds no key for the token.
   */
  async keysFor(alg: string, kid: string | undefined): Promise<CryptoKey[]> {
    // Whether a fetch ran for this token: only then is a kid missing from the set unknown for good.
    let looked = false;
    if (this.keys === undefined) looked = await this.reload();
    else if (Date.now() - this.fetchedAt >= this.options.cacheTtlMs) void this.reload();
    let found = await this.match(alg, kid);
    if (found.length === 0) {
      // A new `kid` is how rotation shows: look again, within the cooldown.
      looked = (await this.reload()) || looked;
      found = await this.match(alg, kid);
    }
    if (found.length > 0) return found;
    // Not looked for (the cooldown holds fetches back): the key may have just been
    // published, so the client is told to retry (temporary) rather than refused for good.
    if (this.keys === undefined || this.lastFailed || !looked) {
      throw new TokenError('unavailable', 'token keys are unavailable; retry later');
    }
    throw new TokenError('key', 'no known key matches the token');
  }

  /** Fetches the key set unless the cooldown holds fetches back; resolves true when a fetch ran (or one under way was joined). */
  private async reload(): Promise<boolean> {
    if (this.pending) {
      await this.pending;
      return true;
    }
    const now = Date.now();
    if (now - this.attemptedAt < this.options.cooldownMs) return false;
    this.attemptedAt = now;
    this.pending = this.fetchKeys().finally(() => {
      this.pending = undefined;
    });
    await this.pending;
    return true;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const set = await this.download();
      this.keys = createLocalJWKSet(set);
      this.fetchedAt = Date.now();
      this.lastFailed = false;
      this.options.log.info({ jwks: this.where, keys: set.keys.length }, 'token keys fetched');
    } catch (error) {
      this.lastFailed = true;
      const reason = error instanceof Error ? error.message : String(error);
      const kept = this.keys === undefined ? 'tokens signed with its keys get a temporary error' : 'the keys fetched before stay in use';
      this.options.log.warn({ jwks: this.where, reason }, `cannot fetch token keys: ${kept}`);
    }
  }

  private async download(): Promise<JSONWebKeySet> {
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
    } catch (error) {
      throw new Error(isTimeout(error) ? `no answer within ${this.options.timeoutMs} ms` : `request failed (${fetchFailureCause(error)})`);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`answered HTTP ${response.status}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBoundedText(response, MAX_JWKS_BYTES));
    } catch (error) {
      throw new Error(error instanceof SyntaxError ? 'answered something that is not JSON' : (error as Error).message);
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error('answered JSON that is not a key set (no "keys" array)');
    return { keys: keys.filter(isPublicSigningKey).slice(0, MAX_JWKS_KEYS) };
  }

  private async match(alg: string, kid: string | undefined): Promise<CryptoKey[]> {
    if (!this.keys) return [];
    const header: JWSHeaderParameters = kid === undefined ? { alg } : { alg, kid };
    try {
      return [await this.keys(header)];
    } catch (error) {
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: CryptoKey[] = [];
        for await (const key of error as unknown as AsyncIterable<CryptoKey>) keys.push(key);
        return keys;
      }
      // No matching key, or a published key that cannot be imported for this algorithm.
      return [];
    }
  }
}

function isPublicSigningKey(key: unknown): key is JSONWebKeySet['keys'][number] {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  const { kty, d } = key as { kty?: unknown; d?: unknown };
  return typeof kty === 'string' && PUBLIC_KEY_TYPES.has(kty) && d === undefined;
}


function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

