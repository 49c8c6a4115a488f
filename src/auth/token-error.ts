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
 * - `algorithm`: a header other than HS256 (including `none`), a `typ` other
 *   than `JWT`, or a `crit` header;
 * - `signature`: the signature does not match the secret;
 * - `expired`: correctly signed, but `exp` has passed;
 * - `not-yet-valid`: correctly signed, but `nbf` is still in the future;
 * - `claims`: correctly signed and current, but a claim has the wrong shape.
 */
export type TokenErrorKind =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'claims';

/**
 * A refused token.
 *
 * Guarantees: the message never contains the token, the secret, or any
 * value taken from the token other than a claim's name, so it is safe to log
 * and to send to the client; it is short ASCII (under 123 bytes) that does
 * not parse as JSON, so it can serve as a WebSocket close reason.
 *
 * In the protocol, `expired` answers the command with `Errors.tokenExpired`
 * (the client fetches a new token and retries); every other kind closes the
 * connection with `Disconnects.invalidToken`, because retrying the same
 * token cannot succeed.
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
