import type { Logger } from '../log/logger.js';
import {
  parseConnectionClaims,
  parseSubscriptionClaims,
  type ConnectionCredentials,
  type SubscriptionCredentials,
} from './claims.js';
import { verifyToken } from './jwt.js';
import { RegexGuard } from './regex-guard.js';

/**
 * Turns connection and subscription tokens into credentials with the
 * server's secret. One per server: it owns the regex guard that runs
 * permission patterns, so a hostile pattern is logged (without the token)
 * and remembered once for the whole server.
 *
 * Both methods throw `TokenError` (kinds: malformed, algorithm, signature,
 * expired, not-yet-valid, claims) for tokens they refuse.
 */
export class Authenticator {
  private readonly regexGuard: RegexGuard;

  constructor(
    private readonly secret: string,
    logger: Logger,
  ) {
    this.regexGuard = new RegexGuard({
      onTimeout: ({ pattern, input, timeoutMs }) =>
        logger.warn({ pattern, channel: input, timeoutMs }, 'permission pattern timed out; treated as no match'),
    });
  }

  connection(token: string): ConnectionCredentials {
    return parseConnectionClaims(verifyToken(token, this.secret), { regexGuard: this.regexGuard });
  }

  subscription(token: string): SubscriptionCredentials {
    return parseSubscriptionClaims(verifyToken(token, this.secret));
  }
}
