/**
 * The error catalogue: every error a client can receive in a reply, and every
 * code a connection can be closed with. Codes are the Centrifuge protocol's,
 * because clients decide from them whether to retry:
 * - reply errors with `temporary: true` are retried by the client;
 * - close codes 3000–3499 make the client reconnect, 3500–3999 stop it.
 */

/** An error answered to one command; the connection stays open. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly temporary = false,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }

  toJSON(): { code: number; message: string; temporary?: boolean } {
    return this.temporary
      ? { code: this.code, message: this.message, temporary: true }
      : { code: this.code, message: this.message };
  }
}

/** Reply errors. Factories, because each carries a message specific to the case. */
export const Errors = {
  internal: (message = 'internal server error') => new ProtocolError(100, message, true),
  unauthorized: (message = 'unauthorized') => new ProtocolError(101, message),
  unknownChannel: (message = 'unknown channel') => new ProtocolError(102, message),
  permissionDenied: (message = 'permission denied') => new ProtocolError(103, message),
  methodNotFound: (message = 'method not found') => new ProtocolError(104, message),
  alreadySubscribed: (message = 'already subscribed') => new ProtocolError(105, message),
  limitExceeded: (message = 'limit exceeded') => new ProtocolError(106, message),
  badRequest: (message = 'bad request') => new ProtocolError(107, message),
  notAvailable: (message = 'not available') => new ProtocolError(108, message),
  tokenExpired: (message = 'token expired') => new ProtocolError(109, message),
  tooManyRequests: (message = 'too many requests') => new ProtocolError(111, message, true),
  unrecoverablePosition: (message = 'unrecoverable position') => new ProtocolError(112, message),
} as const;

/**
 * A reason to close a connection. The reason text is sent in the close frame
 * (at most 123 bytes) and must never parse as JSON: clients read a JSON reason
 * as legacy reconnect advice.
 */
export interface Disconnect {
  readonly code: number;
  readonly reason: string;
  /** Whether a well-behaved client reconnects after it (derived from the code range). */
  readonly reconnect: boolean;
}

function disconnect(code: number, reason: string): Disconnect {
  return Object.freeze({ code, reason, reconnect: code < 3500 });
}

/** Close codes. */
export const Disconnects = {
  /** The server is shutting down; reconnect (to another node). */
  shutdown: disconnect(3001, 'shutdown'),
  /** A server fault. */
  serverError: disconnect(3004, 'internal server error'),
  /** The connection token expired and was not refreshed; reconnect with a new one. */
  expired: disconnect(3005, 'connection expired'),
  /** A subscription token expired and was not refreshed. */
  subExpired: disconnect(3006, 'subscription expired'),
  /** The client read too slowly and its queue filled up. */
  slow: disconnect(3008, 'slow'),
  /**
   * A server-side subscription missed events it cannot replay in place (too
   * many arrived while it was being set up): the client reconnects and
   * recovers them through the connect command's `subs`.
   */
  insufficientState: disconnect(3010, 'insufficient state'),
  /** No pong arrived in time. */
  noPong: disconnect(3012, 'no pong'),
  /** The client kept sending after being told to slow down. */
  tooManyRequests: disconnect(3013, 'too many requests'),
  /**
   * The server asked the connection to go and come back (server API
   * `disconnect` with this code): the client reconnects at once, with a fresh
   * token if it has a `getToken`.
   */
  forceReconnect: disconnect(3011, 'force reconnect'),
  /** The token was malformed, forged, or used a disallowed algorithm. */
  invalidToken: disconnect(3500, 'invalid token'),
  /** The client sent something the protocol does not allow. */
  badRequest: disconnect(3501, 'bad request'),
  /** No connect command arrived in time. */
  stale: disconnect(3502, 'stale'),
  /**
   * The server closed the connection for good (server API `disconnect`
   * without a code, e.g. a banned user): the client does not reconnect.
   */
  forceDisconnect: disconnect(3503, 'force disconnect'),
  /**
   * The account session the connection belongs to has ended (signed out on
   * this or every device, password changed, session expired): the client
   * does not reconnect; the app asks the person to sign in again.
   */
  signedOut: disconnect(3520, 'signed out'),
  /** An admin deactivated the account: the client does not reconnect. */
  accountDeactivated: disconnect(3521, 'account deactivated'),
} as const;

/**
 * The `unsubscribe` push the server sends when it ends a subscription
 * itself (server API `unsubscribe`). Codes below 2500 leave the SDK's
 * subscription unsubscribed; 2500 and above would make it resubscribe.
 */
export const SERVER_UNSUBSCRIBE = Object.freeze({ code: 2000, reason: 'server unsubscribe' });

/**
 * The `unsubscribe` push that makes the SDK resubscribe at once, recovering
 * from the position it has: sent when a subscription missed events it
 * cannot replay in place (too many arrived while it was being set up).
 */
export const RESUBSCRIBE_UNSUBSCRIBE = Object.freeze({ code: 2500, reason: 'insufficient state' });

/**
 * Thrown by a command's handler when the answer is to close the connection
 * rather than to reply (a backend proxy answered `disconnect`): the session
 * closes with {@link disconnect}.
 */
export class DisconnectError extends Error {
  constructor(readonly disconnect: Disconnect) {
    super(disconnect.reason);
    this.name = 'DisconnectError';
  }
}

/** Longest close reason a WebSocket close frame can carry, in UTF-8 bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Why a close code and reason chosen by the server's operator (server API
 * `disconnect`) cannot be sent, or undefined when they can. Codes must be in
 * the application range 3000–4999 (WebSocket refuses others); the reason must
 * fit a close frame and must not parse as JSON (see {@link Disconnect}).
 */
export function customDisconnectProblem(code: number, reason: string): string | undefined {
  if (!Number.isInteger(code) || code < 3000 || code > 4999) return 'disconnect code must be from 3000 to 4999';
  if (Buffer.byteLength(reason, 'utf8') > MAX_CLOSE_REASON_BYTES) {
    return `disconnect reason must be at most ${MAX_CLOSE_REASON_BYTES} bytes`;
  }
  if (parsesAsJson(reason)) return 'disconnect reason must not be JSON';
  return undefined;
}

/**
 * A close code and reason chosen by the server's operator; check them with
 * {@link customDisconnectProblem} first. Codes 3000–3499 and 4000–4499 let
 * the client reconnect; 3500–3999 and 4500–4999 stop it.
 */
export function customDisconnect(code: number, reason: string): Disconnect {
  const terminal = (code >= 3500 && code < 4000) || (code >= 4500 && code < 5000);
  return Object.freeze({ code, reason, reconnect: !terminal });
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** WebSocket close code for a message above the size limit; the client stops and reports "message size". */
export const MESSAGE_TOO_BIG_CLOSE_CODE = 1009;
