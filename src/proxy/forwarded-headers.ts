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

/**
 * Adds to `real` (the request's forwarded headers) the emulated headers a
 * client sent in its connect command whose names are in `names` (lower
 * case). A real header wins over an emulated one of the same name: only
 * the client's own transport-level headers can be set by an edge proxy in
 * front of the server, so they are the more trustworthy. The total stays
 * within {@link MAX_FORWARDED_HEADER_BYTES}.
 */
export function withEmulatedHeaders(
  real: ForwardedHeaders | undefined,
  names: readonly string[],
  emulated: Readonly<Record<string, string>> | undefined,
): ForwardedHeaders | undefined {
  if (!emulated || names.length === 0) return real;
  const kept: (readonly [string, string])[] = real ? [...real] : [];
  let bytes = 0;
  for (const [name, value] of kept) bytes += name.length + value.length;
  for (const [given, value] of Object.entries(emulated)) {
    const name = given.toLowerCase();
    if (!names.includes(name) || kept.some(([present]) => present === name)) continue;
    bytes += name.length + value.length;
    if (bytes > MAX_FORWARDED_HEADER_BYTES) break;
    kept.push([name, value]);
  }
  return kept.length > 0 ? kept : undefined;
}
