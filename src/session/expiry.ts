/** After a token expires, how long the client has to refresh before it is disconnected. */
export const EXPIRED_CLOSE_DELAY_MS = 5_000;

/** Seconds until `expiresAt` (Unix seconds) for a reply's `ttl`, at least 1; undefined when it never expires. */
export function ttlSeconds(expiresAt: number | undefined): number | undefined {
  if (expiresAt === undefined) return undefined;
  return Math.max(1, Math.floor(expiresAt - Date.now() / 1000));
}

/** Milliseconds from now until a connection whose token expires at `expiresAt` must be closed if not refreshed. */
export function closeDelayMs(expiresAt: number): number {
  return Math.max(0, expiresAt * 1000 - Date.now()) + EXPIRED_CLOSE_DELAY_MS;
}
