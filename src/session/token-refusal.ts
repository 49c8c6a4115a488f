import { TokenError } from '../auth/token-error.js';
import { Errors } from '../protocol/errors.js';

/**
 * What a token refusal means for the command that carried the token:
 * throws the reply error for the kinds a client retries (`expired`: fetch a
 * new token; `unavailable`: the keys cannot be fetched right now, a
 * temporary error), and returns the `TokenError` for the others, after
 * which the caller closes the connection (the same token cannot succeed).
 * Anything that is not a `TokenError` is rethrown.
 */
export function tokenRefusal(error: unknown): TokenError {
  if (!(error instanceof TokenError)) throw error;
  if (error.kind === 'expired') throw Errors.tokenExpired();
  if (error.kind === 'unavailable') throw Errors.internal('token keys are unavailable; retry later');
  return error;
}
