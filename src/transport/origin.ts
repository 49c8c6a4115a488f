/**
 * Origin checking for WebSocket upgrades. Browsers always send `Origin`, so a
 * page on another site cannot open a socket to this server with the user's
 * cookies unless the operator allowed that site. Clients that are not
 * browsers send no Origin and are let through: they authenticate by token.
 */

/**
 * @param origin the request's Origin header, if any
 * @param host the request's Host header (host[:port])
 * @param allowed configured origins (`scheme://host[:port]`, or `*`)
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes('*')) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const normalized = parsed.origin.toLowerCase();
  if (allowed.some((entry) => entry.toLowerCase() === normalized)) return true;
  // Same origin: the page was served by this server.
  return host !== undefined && parsed.host.toLowerCase() === host.toLowerCase();
}
