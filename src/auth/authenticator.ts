import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import {
  parseConnectionClaims,
  parseSubscriptionClaims,
  type ConnectionCredentials,
  type SubscriptionCredentials,
} from './claims.js';
import { RegexGuard } from './regex-guard.js';
import { tokenVerifierFor, type TokenVerifier } from './token-verifier.js';

/**
 * Turns connection and subscription tokens into credentials with the
 * server's keys. One per server: it owns the regex guard that runs
 * permission patterns, so a hostile pattern is logged (without the token)
 * and remembered once for the whole server.
 *
 * Both methods reject with a `TokenError` (see `TokenErrorKind`) for tokens
 * they refuse.
 */
export class Authenticator {
  private readonly regexGuard: RegexGuard;

  constructor(
    private readonly verifier: TokenVerifier,
    logger: Logger,
  ) {
    this.regexGuard = new RegexGuard({
      onTimeout: ({ pattern, input, timeoutMs }) =>
        logger.warn({ pattern, channel: input, timeoutMs }, 'permission pattern timed out; treated as no match'),
    });
  }

  /** The authenticator the configuration describes; starts fetching the JWKS, if any, at once. */
  static forConfig(config: Config, logger: Logger): Authenticator {
    const verifier = tokenVerifierFor(config, logger);
    void verifier.prefetch();
    return new Authenticator(verifier, logger);
  }

  async connection(token: string): Promise<ConnectionCredentials> {
    return parseConnectionClaims(await this.verifier.verify(token), { regexGuard: this.regexGuard });
  }

  async subscription(token: string): Promise<SubscriptionCredentials> {
    return parseSubscriptionClaims(await this.verifier.verify(token));
  }
}
