/**
 * The registered claims (RFC 7519 §4.1) every verified token is held to,
 * whichever key verified it: its validity period, and the issuer and
 * audience the server is configured to accept.
 */
import { TokenError } from './token-error.js';

/** What {@link checkRegisteredClaims} requires. */
export interface ClaimRequirements {
  /** Required `iss`; "" accepts any (or none). */
  readonly issuer: string;
  /** Required member of `aud` (a string or an array of strings); "" accepts any (or none). */
  readonly audience: string;
}

/**
 * Checks `exp`, `nbf`, `iss` and `aud` of a token whose signature was verified.
 *
 * Guarantees:
 * - `exp`, when present, must be a number and the token is expired once
 *   `nowSeconds >= exp`; `nbf`, when present, must be a number and the token
 *   is refused while `nowSeconds < nbf`. No clock leeway is applied;
 * - with an `issuer`, `iss` must equal it; with an `audience`, `aud` must
 *   equal it or be an array holding it.
 *
 * @throws TokenError of kind `malformed` (non-numeric times), `expired`,
 * `not-yet-valid`, `issuer` or `audience`.
 */
export function checkRegisteredClaims(
  claims: Readonly<Record<string, unknown>>,
  requirements: ClaimRequirements,
  nowSeconds: number,
): void {
  const exp = timeClaim(claims, 'exp');
  if (exp !== undefined && nowSeconds >= exp) throw new TokenError('expired', 'token expired');
  const nbf = timeClaim(claims, 'nbf');
  if (nbf !== undefined && nowSeconds < nbf) throw new TokenError('not-yet-valid', 'token is not valid yet');
  if (requirements.issuer !== '' && claims.iss !== requirements.issuer) {
    throw new TokenError('issuer', 'token issuer (iss) is not accepted');
  }
  if (requirements.audience !== '' && !hasAudience(claims.aud, requirements.audience)) {
    throw new TokenError('audience', 'token audience (aud) is not accepted');
  }
}

function hasAudience(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

function timeClaim(claims: Readonly<Record<string, unknown>>, name: 'exp' | 'nbf'): number | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TokenError('malformed', `token claim "${name}" is not a number`);
  }
  return value;
}
