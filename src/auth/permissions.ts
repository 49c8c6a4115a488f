/**
 * Per-channel permissions carried in a connection token, in the shape
 * Scaledrone tokens use: a map from a channel-name regular expression to the
 * operations it grants, e.g.
 *
 * ```json
 * { "^observable-room$": { "publish": true, "subscribe": true },
 *   "^private-room-alice$": { "subscribe": true },
 *   "^private-room-(?!alice$).+$": { "publish": true } }
 * ```
 */

import { defaultRegexGuard, type RegexGuard } from './regex-guard.js';
import { TokenError } from './token-error.js';

/** What a client may ask to do on a channel. */
export type ChannelOperation = 'publish' | 'subscribe' | 'history' | 'presence';

/** Most patterns one token may carry; each is tried per checked channel. */
export const MAX_PERMISSION_PATTERNS = 64;
/** Longest pattern accepted. */
export const MAX_PERMISSION_PATTERN_LENGTH = 512;

/** One pattern's grants, after the defaults have been applied. */
interface Grant {
  readonly pattern: string;
  readonly publish: boolean;
  readonly subscribe: boolean;
  readonly presence: boolean;
  /** `false`: no history; `true`: unlimited; a number: at most that many publications. */
  readonly history: boolean | number;
}

const FIELDS = new Set(['publish', 'subscribe', 'history', 'presence']);

/**
 * An immutable set of channel permissions from a token's `permissions`
 * claim.
 *
 * Guarantees:
 * - an operation is allowed on a channel exactly when at least one pattern
 *   that matches the channel grants it; a matching pattern that does not
 *   grant it does not veto another that does;
 * - `history` and `presence`, when absent from an entry, follow that entry's
 *   `subscribe` (a member of a room may see who is in it and read what was
 *   said); `history: false` or `history: 0` denies history;
 * - patterns are JavaScript regular expressions compiled without flags and
 *   are not anchored implicitly (`"room"` matches `"my-room-2"`);
 * - matching goes through a {@link RegexGuard}: a pattern that cannot be
 *   matched in time matches nothing, so hostile patterns deny rather than
 *   stall.
 */
export class PermissionSet {
  private constructor(
    private readonly grants: readonly Grant[],
    private readonly guard: RegexGuard,
  ) {}

  /**
   * Validates a `permissions` claim.
   *
   * Throws a {@link TokenError} of kind `claims` when the value is not an
   * object of objects, an entry has an unknown field or a field of the wrong
   * type (`history` may be a boolean or a non-negative integer, the others
   * booleans), a pattern is not a valid regular expression or is longer than
   * {@link MAX_PERMISSION_PATTERN_LENGTH}, or there are more than
   * {@link MAX_PERMISSION_PATTERNS} patterns. An empty object grants nothing.
   */
  static fromClaim(value: unknown, guard: RegexGuard = defaultRegexGuard): PermissionSet {
    if (!isPlainObject(value)) throw claimsError('claim "permissions" must be an object');
    const patterns = Object.keys(value);
    if (patterns.length > MAX_PERMISSION_PATTERNS) {
      throw claimsError(`claim "permissions" has more than ${MAX_PERMISSION_PATTERNS} patterns`);
    }
    const grants = patterns.map((pattern, index) => parseEntry(pattern, value[pattern], index));
    return new PermissionSet(Object.freeze(grants), guard);
  }

  /** Whether `op` is allowed on `channel`. */
  allows(op: ChannelOperation, channel: string): boolean {
    // Only entries that would grant the operation are worth a match.
    return this.grants.some((grant) => grants(grant, op) && this.guard.test(grant.pattern, channel));
  }

  /**
   * How many publications a client may read from `channel`'s history:
   * `undefined` when some matching entry grants it without a limit, otherwise
   * the largest numeric limit among matching entries that grant history, and
   * `0` when none does (history is not allowed).
   */
  historyLimit(channel: string): number | undefined {
    let limit = 0;
    for (const grant of this.grants) {
      if (!grants(grant, 'history') || !this.guard.test(grant.pattern, channel)) continue;
      if (grant.history === true) return undefined;
      if (typeof grant.history === 'number' && grant.history > limit) limit = grant.history;
    }
    return limit;
  }
}

function grants(grant: Grant, op: ChannelOperation): boolean {
  switch (op) {
    case 'publish':
      return grant.publish;
    case 'subscribe':
      return grant.subscribe;
    case 'presence':
      return grant.presence;
    case 'history':
      return grant.history === true || (typeof grant.history === 'number' && grant.history > 0);
  }
}

function parseEntry(pattern: string, entry: unknown, index: number): Grant {
  // Error messages name the entry by position: the pattern itself may carry
  // user-supplied text and should not end up in logs or replies.
  const where = `claim "permissions" entry ${index + 1}`;
  if (pattern.length > MAX_PERMISSION_PATTERN_LENGTH) {
    throw claimsError(`${where} has a pattern longer than ${MAX_PERMISSION_PATTERN_LENGTH} characters`);
  }
  try {
    // Only parses the pattern (linear in its length); matching happens later, guarded.
    new RegExp(pattern);
  } catch {
    throw claimsError(`${where} is not a valid regular expression`);
  }
  if (!isPlainObject(entry)) throw claimsError(`${where} must be an object`);
  for (const field of Object.keys(entry)) {
    if (!FIELDS.has(field)) throw claimsError(`${where} has an unknown field`);
  }
  const subscribe = booleanField(entry, 'subscribe', where) ?? false;
  return {
    pattern,
    publish: booleanField(entry, 'publish', where) ?? false,
    subscribe,
    presence: booleanField(entry, 'presence', where) ?? subscribe,
    history: historyField(entry, where) ?? subscribe,
  };
}

function booleanField(entry: Record<string, unknown>, field: string, where: string): boolean | undefined {
  if (!Object.hasOwn(entry, field)) return undefined;
  const value = entry[field];
  if (typeof value !== 'boolean') throw claimsError(`${where} field "${field}" must be a boolean`);
  return value;
}

function historyField(entry: Record<string, unknown>, where: string): boolean | number | undefined {
  if (!Object.hasOwn(entry, 'history')) return undefined;
  const value = entry.history;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw claimsError(`${where} field "history" must be a boolean or a non-negative integer`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function claimsError(message: string): TokenError {
  return new TokenError('claims', message);
}
