/**
 * Verifies connection and subscription tokens with every key the server is
 * configured with: `tokenSecret` for HMAC tokens (Parley's own among them),
 * `tokenPublicKey` and `tokenJwksUrl` for tokens from an identity provider.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { compactVerify, errors, importSPKI, type CryptoKey } from 'jose';
import type { Config } from '../config/types.js';
import { HMAC_ALGORITHMS, hmacMatches, parseToken, payloadOf, type ParsedToken } from './jwt.js';
import { RemoteKeySet, type KeySetLog } from './jwks.js';
import { readPublicKeys, type PublicKey } from './public-keys.js';
import { checkRegisteredClaims, type ClaimRequirements } from './registered-claims.js';
import { TokenError } from './token-error.js';

/** HMAC secrets shorter than this (RFC 7518 §3.2: the hash size) are accepted with a warning. */
export const RECOMMENDED_SECRET_BYTES = 32;

/** Most keys of a key set tried for a token without a `kid`. */
const MAX_KEYS_WITHOUT_KID = 4;

/** What a {@link TokenVerifier} verifies with. */
export interface TokenVerifierOptions {
  /** HMAC secret; "" accepts no HMAC token. */
  readonly secret: string;
  /** Public keys from configuration. @default [] */
  readonly publicKeys?: readonly PublicKey[];
  /** The identity provider's key set, if any. */
  readonly jwks?: RemoteKeySet | undefined;
  /** Required `iss`; "" for any. @default "" */
  readonly issuer?: string;
  /** Required `aud` member; "" for any. @default "" */
  readonly audience?: string;
}

/**
 * Verifies tokens.
 *
 * Guarantees:
 * - the key is chosen by the algorithm family, and each key verifies only
 *   the algorithms its type allows: HMAC tokens (HS256/384/512) only with
 *   the secret, public-key tokens (RS, PS, ES, EdDSA) only with configured
 *   public keys or the key set, so a public key can never act as an HMAC
 *   secret; `none`, `crit`, and keys carried by the token are refused
 *   before any key is used (see `parseToken`);
 * - the claims are decoded and checked (`exp`, `nbf`, `iss`, `aud`) only
 *   once the signature is verified;
 * - every refusal is a `TokenError`; only kind `unavailable` (the key set
 *   cannot be fetched) is worth retrying with the same token;
 * - keys are imported once, not per token; an HMAC token is verified
 *   synchronously with `node:crypto` (no thread hop), though the result is a promise.
 */
export class TokenVerifier {
  private readonly hmacKey: KeyObject | undefined;
  private readonly publicKeys: readonly PublicKey[];
  /** Public keys imported for one algorithm each, by `index:alg`. */
  private readonly imported = new Map<string, Promise<CryptoKey>>();
  private readonly requirements: ClaimRequirements;

  constructor(private readonly options: TokenVerifierOptions) {
    this.hmacKey = options.secret === '' ? undefined : createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.publicKeys = options.publicKeys ?? [];
    this.requirements = { issuer: options.issuer ?? '', audience: options.audience ?? '' };
  }

  /** Fetches the key set, if there is one, without waiting for a token to ask. Never rejects. */
  prefetch(): Promise<void> {
    return this.options.jwks?.prefetch() ?? Promise.resolve();
  }

  /**
   * The claims of a valid token.
   * @param nowSeconds - the time `exp` and `nbf` are checked against.
   * @throws TokenError for a token that is refused.
   */
  async verify(token: string, nowSeconds: number = Date.now() / 1000): Promise<Record<string, unknown>> {
    const parsed = parseToken(token);
    if (HMAC_ALGORITHMS.has(parsed.alg)) {
      if (this.hmacKey === undefined) throw new TokenError('algorithm', 'HMAC tokens are not accepted');
      if (!hmacMatches(parsed, this.hmacKey)) throw invalidSignature();
    } else {
      await this.verifyWithPublicKey(parsed);
    }
    const claims = payloadOf(parsed);
    checkRegisteredClaims(claims, this.requirements, nowSeconds);
    return claims;
  }

  private async verifyWithPublicKey(parsed: ParsedToken): Promise<void> {
    const configured = this.configuredKeysFor(parsed.alg);
    const jwks = this.options.jwks;
    if (configured.length === 0 && jwks === undefined) {
      throw new TokenError('algorithm', 'no public key is configured for the token algorithm');
    }
    for (const key of configured) {
      if (await signedWith(parsed, await key)) return;
    }
    if (jwks !== undefined) {
      const keys = await jwks.keysFor(parsed.alg, parsed.kid);
      // Without a `kid` each key of the algorithm is tried: a few at most, or a forged token would cost many verifications.
      if (keys.length > MAX_KEYS_WITHOUT_KID) throw new TokenError('key', 'token has no kid and several keys could verify it');
      for (const key of keys) {
        if (await signedWith(parsed, key)) return;
      }
    }
    throw invalidSignature();
  }

  private configuredKeysFor(alg: string): Promise<CryptoKey>[] {
    const keys: Promise<CryptoKey>[] = [];
    this.publicKeys.forEach((key, index) => {
      if (!key.algorithms.includes(alg)) return;
      const id = `${index}:${alg}`;
      let imported = this.imported.get(id);
      if (imported === undefined) {
        imported = importSPKI(key.spki, alg);
        this.imported.set(id, imported);
      }
      keys.push(imported);
    });
    return keys;
  }
}

/** Whether `key` made the token's signature with the token's algorithm. */
async function signedWith(parsed: ParsedToken, key: CryptoKey): Promise<boolean> {
  try {
    await compactVerify(parsed.token, key, { algorithms: [parsed.alg] });
    return true;
  } catch (error) {
    if (error instanceof errors.JWSInvalid) throw new TokenError('malformed', 'token is not a valid JWS');
    // A bad signature, or a key that cannot verify this algorithm: either way, not this key.
    return false;
  }
}

function invalidSignature(): TokenError {
  return new TokenError('signature', 'token signature is invalid');
}

/**
 * The verifier the configuration describes. Logs, at start-up, a warning
 * for a `tokenSecret` shorter than {@link RECOMMENDED_SECRET_BYTES} (naming
 * the key, never its value) and which public keys are in use.
 *
 * @throws PublicKeyError when `tokenPublicKey` cannot be read (validated
 * already when the configuration was loaded).
 */
export function tokenVerifierFor(config: Config, log: KeySetLog): TokenVerifier {
  const bytes = Buffer.byteLength(config.tokenSecret, 'utf8');
  if (bytes > 0 && bytes < RECOMMENDED_SECRET_BYTES) {
    log.warn(
      { key: 'tokenSecret', bytes, recommended: RECOMMENDED_SECRET_BYTES },
      `tokenSecret is shorter than ${RECOMMENDED_SECRET_BYTES} bytes: HMAC tokens are easier to forge; move to a longer secret`,
    );
  }
  const publicKeys = config.tokenPublicKey === '' ? [] : readPublicKeys(config.tokenPublicKey);
  if (publicKeys.length > 0) log.info({ keys: publicKeys.map((key) => key.description) }, 'token public keys loaded');
  // An identity provider signs tokens for every application of its tenant: without an
  // audience (or at least an issuer) any of them would be accepted here as a Parley user.
  if ((publicKeys.length > 0 || config.tokenJwksUrl !== '') && config.tokenAudience === '') {
    log.warn(
      { key: 'tokenAudience' },
      'tokenAudience is not set: every token your identity provider signs is accepted, including those it issues for other applications; set tokenAudience (and tokenIssuer)',
    );
  }
  const jwks = config.tokenJwksUrl === ''
    ? undefined
    : new RemoteKeySet({
      url: config.tokenJwksUrl,
      cacheTtlMs: config.tokenJwksCacheTtl * 1000,
      cooldownMs: config.tokenJwksCooldown * 1000,
      timeoutMs: Math.max(1, Math.round(config.tokenJwksTimeout * 1000)),
      log,
    });
  return new TokenVerifier({ secret: config.tokenSecret, publicKeys, jwks, issuer: config.tokenIssuer, audience: config.tokenAudience });
}
