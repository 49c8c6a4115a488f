/**
 * The one error type token handling throws, so callers can tell a client
 * apart that should fetch a fresh token from one that sent something it must
 * never send again.
 */

/**
 * Why a token was refused:
 * - `malformed`: not a compact JWS of three base64url parts, not JSON, a
 *   header or payload that is not an object, a non-numeric `exp`/`nbf`, or
 *   larger than the size cap;
 * - `algorithm`: `alg` is `none`, unknown, or one no configured key verifies
 *   (HMAC algorithms need `tokenSecret`; the others a public key or a JWKS);
 * - `header`: a header parameter that is never honoured: `crit`, a key or a
 *   key location carried by the token (`jwk`, `jku`, `x5u`, `x5c`), or a
 *   `typ` that is not a JWT;
 * - `key`: no known key matches the token's `kid` (nor `alg`), even after
 *   looking for new keys;
 * - `signature`: the signature does not match the key;
 * - `expired`: correctly signed, but `exp` has passed;
 * - `not-yet-valid`: correctly signed, but `nbf` is still in the future;
 * - `issuer`, `audience`: correctly signed, but `iss` or `aud` is not the
 *   configured `tokenIssuer` or `tokenAudience`;
 * - `claims`: correctly signed and current, but a claim has the wrong shape;
 * - `unavailable`: the token's keys cannot be fetched right now (the JWKS
 *   endpoint is down or slow); the only kind worth retrying with the same token.
 */
export type TokenErrorKind =
  | 'malformed'
  | 'algorithm'
  | 'header'
  | 'key'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'unavailable';

/**
 * A refused token.
 *
 * Guarantees: the message never contains the token, the secret, or any
 * value taken from the token other than a claim's name, so it is safe to log
 * and to send to the client; it is short ASCII (under 123 bytes) that does
 * not parse as JSON, so it can serve as a WebSocket close reason.
 *
 * In the protocol, `expired` answers the command with `Errors.tokenExpired`
 * (the client fetches a new token and retries), `unavailable` with a
 * temporary `Errors.internal` (the client retries later); every other kind
 * closes the connection with `Disconnects.invalidToken`, because retrying
 * the same token cannot succeed.
 */
export class TokenError extends Error {
  constructor(
    readonly kind: TokenErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}
