/**
 * The request headers a backend proxy call forwards: the configured names
 * only, copied from the HTTP request that opened the connection.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Header name (lower case) and value pairs, in the configured order. */
export type ForwardedHeaders = readonly (readonly [name: string, value: string])[];

/**
 * Most bytes of forwarded header names and values kept per connection: the
 * header that would pass it and those after it are dropped (the backend
 * sees the request without them), so a connection holds a bounded amount
 * whatever its handshake carried.
 */
export const MAX_FORWARDED_HEADER_BYTES = 16_384;

/**
 * Copies the headers named in `names` (lower case) from `headers`;
 * undefined when none of them is present. Repeated headers are joined as
 * HTTP joins them (`, `); Node has already joined `Cookie` with `; `.
 */
export function forwardedHeaders(names: readonly string[], headers: IncomingHttpHeaders): ForwardedHeaders | undefined {
  let kept: [string, string][] | undefined;
  let bytes = 0;
  for (const name of names) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    bytes += name.length + value.length;
    if (bytes > MAX_FORWARDED_HEADER_BYTES) break;
    (kept ??= []).push([name, value]);
  }
  return kept;
}
