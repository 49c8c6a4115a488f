/**
 * Value checks for configuration keys. Each check turns an untrusted value
 * into a typed one or throws a one-line {@link ConfigError} naming the key and
 * where the value came from.
 *
 * Values from the config file are JSON and must have the right JSON type.
 * Values from the environment and flags are text, so checks parse them
 * (`"9000"` → 9000, `"true"` → true, `"a,b"` → ["a", "b"]).
 */
import { isIP } from 'node:net';
import { ConfigError, describeValue, isSecretKey } from './config-error.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import type { AccessRule } from './types.js';

/** Where a value is being checked. */
export interface At {
  /** Dotted key path, e.g. `namespaces.room.historySize`. */
  readonly path: string;
  /** Human-readable origin, e.g. `env PORT`; omitted for built-in values. */
  readonly source?: string | undefined;
  /** The value is text (environment, flags) rather than JSON. */
  readonly textual: boolean;
}

/** A check: returns the value typed and normalized, or throws {@link ConfigError}. */
export type Check<T> = (value: unknown, at: At) => T;

/** Throws the standard "must be" error for `value` at `at`. */
export function reject(at: At, expected: string, value: unknown): never {
  const got = describeValue(value, isSecretKey(at.path));
  throw new ConfigError(`${at.path} must be ${expected} (got ${got}${from(at)})`, {
    key: at.path,
    source: at.source,
  });
}

/** ` from <source>`, to follow a value in a message; nothing for built-in values. */
export function from(at: { readonly source?: string | undefined }): string {
  return at.source ? ` from ${at.source}` : '';
}

/** ` (from <source>)`, to end a message; nothing for built-in values. */
export function note(source: string | undefined): string {
  return source ? ` (from ${source})` : '';
}

/** Any string; `nonEmpty` rejects `""` and whitespace-only strings. */
export function text(options: { nonEmpty?: boolean } = {}): Check<string> {
  const expected = options.nonEmpty ? 'a non-empty string' : 'a string';
  return (value, at) => {
    if (typeof value !== 'string' || (options.nonEmpty && value.trim() === '')) reject(at, expected, value);
    return value;
  };
}

/**
 * A secret: `""` (meaning "generate one") or at least `minBytes` bytes of
 * UTF-8. The message states only the length of a rejected secret.
 */
export function secret(minBytes: number): Check<string> {
  const expected = minBytes <= 1 ? 'a string (empty to generate one)' : `empty (to generate one) or at least ${minBytes} bytes`;
  return (value, at) => {
    if (typeof value !== 'string') reject(at, expected, value);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes !== 0 && bytes < minBytes) {
      throw new ConfigError(`${at.path} must be ${expected} (got ${bytes} bytes${from(at)})`, {
        key: at.path,
        source: at.source,
      });
    }
    return value;
  };
}

/**
 * `""` (not used) or a URL with one of `protocols` and a host. The message
 * never repeats the value: service URLs carry passwords.
 */
export function serviceUrl(protocols: readonly string[]): Check<string> {
  const expected = `empty or a ${protocols.map((p) => `${p}//`).join(' or ')} URL with a host`;
  return (value, at) => {
    if (typeof value !== 'string') reject(at, expected, value);
    if (value === '') return value;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || !protocols.includes(url.protocol) || url.hostname === '') {
      throw new ConfigError(`${at.path} must be ${expected}${url ? ` (got a ${url.protocol}// URL${from(at)})` : ` (got a string that is not a URL${from(at)})`}`, {
        key: at.path,
        source: at.source,
      });
    }
    return value;
  };
}

/**
 * A Redis key prefix: 1 to 64 of letters, digits and `:_.-`. Braces are out
 * because keys use `{channel}` as their Redis Cluster hash tag.
 */
export function keyPrefix(): Check<string> {
  const expected = '1 to 64 letters, digits or the characters ":_.-"';
  return (value, at) => {
    if (typeof value !== 'string' || !/^[A-Za-z0-9:_.-]{1,64}$/.test(value)) reject(at, expected, value);
    return value;
  };
}

/** An integer in `[min, max]`; `max` defaults to the largest safe integer. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
  const expected =
    max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer between ${min} and ${max}`;
  return (value, at) => {
    const number = at.textual && typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      reject(at, expected, value);
    }
    return number;
  };
}

/** A finite number greater than zero. */
export function positiveNumber(): Check<number> {
  return (value, at) => {
    const number =
      at.textual && typeof value === 'string' && /^\s*(?:\d+(?:\.\d+)?|\.\d+)\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) reject(at, 'a number > 0', value);
    return number;
  };
}

const TEXT_BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false,
};

/** `true` or `false`; text may also say 1/0, yes/no, on/off. */
export function boolean(): Check<boolean> {
  return (value, at) => {
    const parsed = at.textual && typeof value === 'string' ? TEXT_BOOLEANS[value.trim().toLowerCase()] : value;
    if (typeof parsed !== 'boolean') reject(at, 'true or false', value);
    return parsed;
  };
}

/**
 * A duration in seconds, given as a number or a duration string (see
 * `parseDuration`) from any source.
 * @param options.positive - reject 0.
 * @param options.max - largest accepted value in seconds.
 */
export function duration(options: { positive?: boolean; max?: number } = {}): Check<number> {
  const bounds = [options.positive ? '> 0' : '', options.max === undefined ? '' : `at most ${options.max}s`]
    .filter(Boolean)
    .join(' and ');
  const expected = `${DURATION_HINT}${bounds ? ` (${bounds})` : ''}`;
  return (value, at) => {
    if (typeof value !== 'number' && typeof value !== 'string') reject(at, expected, value);
    let seconds: number;
    try {
      seconds = parseDuration(value);
    } catch {
      reject(at, expected, value);
    }
    if ((options.positive && seconds === 0) || (options.max !== undefined && seconds > options.max)) {
      reject(at, expected, value);
    }
    return seconds;
  };
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  const expected = `one of ${values.join(', ')}`;
  return (value, at) => {
    const candidate = at.textual && typeof value === 'string' ? value.trim() : value;
    if (!values.includes(candidate as T)) reject(at, expected, value);
    return candidate as T;
  };
}

/** A list whose entries each pass `entry` (text: comma-separated); repeated entries are kept once. */
export function listOf<T>(entry: Check<T>): Check<readonly T[]> {
  return (value, at) => {
    const list = at.textual && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
    if (!Array.isArray(list)) reject(at, 'a list', value);
    return [...new Set(list.map((item: unknown, index) => entry(item, { ...at, path: `${at.path}[${index}]` })))];
  };
}

/** `true`, `false` or `"members"`. */
export function accessRule(): Check<AccessRule> {
  return (value, at) => {
    if (value !== true && value !== false && value !== 'members') reject(at, 'true, false or "members"', value);
    return value;
  };
}

// scheme "://" host [":" port]; host is a DNS name (ASCII, as browsers send it) or a bracketed IPv6 address.
const ORIGIN =
  /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/i;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };

/**
 * A list of allowed WebSocket origins: each `*` or `scheme://host[:port]`
 * with no path. Origins are normalized the way browsers send them (lower
 * case, default port dropped) so a plain string comparison matches. Text is
 * comma-separated.
 */
export function origins(): Check<readonly string[]> {
  const expected = '* or an origin like https://chat.example.com (scheme://host[:port], no path)';
  return (value, at) => {
    const list =
      at.textual && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
    if (!Array.isArray(list)) reject(at, 'a list of origins', value);
    return list.map((entry: unknown, index) => {
      const entryAt = { ...at, path: `${at.path}[${index}]` };
      if (typeof entry !== 'string') reject(entryAt, expected, entry);
      if (entry === '*') return entry;
      const match = ORIGIN.exec(entry);
      if (!match) reject(entryAt, expected, entry);
      const scheme = (match[1] ?? '').toLowerCase();
      const host = (match[2] ?? '').toLowerCase();
      const port = match[3];
      if (port !== undefined && Number(port) > 65535) reject(entryAt, expected, entry);
      return port === undefined || DEFAULT_PORTS[scheme] === String(Number(port))
        ? `${scheme}://${host}`
        : `${scheme}://${host}:${Number(port)}`;
    });
  };
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * A list of trusted proxy addresses: each an IP address, a CIDR range
 * (`10.0.0.0/8`, `fd00::/8`) or `loopback`, `linklocal`, `uniquelocal`.
 * Text is comma-separated.
 */
export function proxyAddresses(): Check<readonly string[]> {
  const expected = 'an IP address, a CIDR range like 10.0.0.0/8, or loopback, linklocal or uniquelocal';
  return (value, at) => {
    const list = at.textual && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
    if (!Array.isArray(list)) reject(at, 'a list of proxy addresses', value);
    return list.map((entry: unknown, index) => {
      const entryAt = { ...at, path: `${at.path}[${index}]` };
      if (typeof entry !== 'string') reject(entryAt, expected, entry);
      if (PROXY_NAMES.has(entry)) return entry;
      const [address, prefix, extra] = entry.split('/');
      const family = isIP(address ?? '');
      const maxPrefix = family === 4 ? 32 : 128;
      if (family === 0 || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix))) {
        reject(entryAt, expected, entry);
      }
      return entry;
    });
  };
}

/** Headers that describe the hop or the body rather than the client: a proxy call sets its own. */
const UNFORWARDABLE_HEADERS = new Set([
  'host', 'connection', 'content-length', 'content-type', 'transfer-encoding', 'keep-alive', 'upgrade',
  'expect', 'te', 'trailer', 'proxy-connection',
]);

/**
 * A list of HTTP request header names (RFC 9110 tokens), stored lower case
 * without duplicates. Headers of the connection itself (`Host`,
 * `Content-Length`, `Upgrade`, `Sec-WebSocket-*`…) are refused: they belong
 * to one hop. Text is comma-separated.
 */
export function headerNames(): Check<readonly string[]> {
  const expected = 'a header name like Cookie or Authorization (not a hop-by-hop or WebSocket handshake header)';
  return (value, at) => {
    const list = at.textual && typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
    if (!Array.isArray(list)) reject(at, 'a list of header names', value);
    const names = list.map((entry: unknown, index) => {
      const entryAt = { ...at, path: `${at.path}[${index}]` };
      if (typeof entry !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(entry)) reject(entryAt, expected, entry);
      const name = entry.toLowerCase();
      if (UNFORWARDABLE_HEADERS.has(name) || name.startsWith('sec-websocket-')) reject(entryAt, expected, entry);
      return name;
    });
    return [...new Set(names)];
  };
}

/** True for a plain JSON object (not an array or null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
