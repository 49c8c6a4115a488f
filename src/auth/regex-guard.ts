/**
 * Runs regular expressions that arrive inside tokens without letting one of
 * them stall the event loop. Permission patterns are often built by
 * interpolating a user id into a template (`^private-room-<id>$`), so a
 * user-chosen id can make a pattern with catastrophic backtracking such as
 * `^(a+)+$`; one such match would otherwise block every connection on the
 * node for seconds to years.
 *
 * Matches that could backtrack run inside a `node:vm` context with a
 * timeout, which V8 enforces by interrupting the regexp engine itself.
 */

import vm from 'node:vm';

/** Longest channel name the guard will match; longer input never matches. */
export const MAX_GUARDED_INPUT_LENGTH = 255;
/** Longest pattern the guard will run; longer patterns never match. */
export const MAX_GUARDED_PATTERN_LENGTH = 512;

/** Reported when a match is cut off by the time limit. */
export interface RegexTimeoutEvent {
  /** The pattern (at most {@link MAX_GUARDED_PATTERN_LENGTH} characters), never the token it came from. */
  pattern: string;
  /** The channel name it was matched against. */
  input: string;
  timeoutMs: number;
}

export interface RegexGuardOptions {
  /** Time one match may take before it is abandoned. @default 20 */
  timeoutMs?: number;
  /** Remembered match results (pattern × input). @default 10000 */
  resultCacheSize?: number;
  /** Compiled expressions kept in the sandbox. @default 1000 */
  compiledCacheSize?: number;
  /** Patterns remembered as having timed out. @default 1000 */
  poisonedCacheSize?: number;
  /** Told about each timed-out match, e.g. to log it. Exceptions it throws are ignored. */
  onTimeout?: (event: RegexTimeoutEvent) => void;
}

/**
 * Without any of these a pattern has no quantifier and no alternation, so
 * the engine has exactly one way to try it at each start position: matching
 * costs at most input × pattern steps and needs no sandbox. The test is
 * deliberately crude (an escaped `\*` or a `|` inside a class also sends the
 * pattern to the sandbox), because a false "safe" would be a stall.
 */
const MAY_BACKTRACK = /[*+?{|]/;

// Set up once per context. The compiled-expression cache lives inside the
// sandbox so that the RegExp objects belong to the realm whose execution the
// timeout interrupts.
const SANDBOX_SETUP = `
'use strict';
const compiled = new Map();
function guardedTest(pattern, input, limit) {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(pattern);
    if (compiled.size >= limit) compiled.delete(compiled.keys().next().value);
    compiled.set(pattern, re);
  }
  return re.test(input) === true;
}
`;

/**
 * Tests untrusted patterns against channel names in bounded time.
 *
 * Guarantees:
 * - {@link RegexGuard.test} returns within about `timeoutMs` (plus V8's
 *   interrupt latency) whatever the pattern;
 * - a match that times out counts as no match, so permissions fail closed,
 *   and `onTimeout` is called once for it;
 * - a pattern that has timed out once matches nothing afterwards (while it
 *   is remembered), so a hostile pattern costs one timeout rather than one
 *   per channel name tried against it;
 * - patterns are compiled without flags; an invalid pattern, a pattern longer
 *   than {@link MAX_GUARDED_PATTERN_LENGTH} or an input longer than
 *   {@link MAX_GUARDED_INPUT_LENGTH} matches nothing;
 * - memory is bounded by the three cache sizes.
 *
 * Each sandboxed match starts a watchdog, so results are cached per
 * (pattern, input); a cached answer costs a map lookup.
 */
export class RegexGuard {
  private readonly timeoutMs: number;
  private readonly onTimeout: ((event: RegexTimeoutEvent) => void) | undefined;
  private readonly results: BoundedCache<boolean>;
  private readonly poisoned: BoundedCache<true>;
  private readonly compiledCacheSize: number;
  private readonly sandbox: { pattern: string; input: string; limit: number };
  private readonly context: vm.Context;
  private readonly call = new vm.Script('guardedTest(pattern, input, limit)');

  constructor(options: RegexGuardOptions = {}) {
    this.timeoutMs = positiveInteger(options.timeoutMs ?? 20, 'timeoutMs');
    this.results = new BoundedCache(positiveInteger(options.resultCacheSize ?? 10_000, 'resultCacheSize'));
    this.poisoned = new BoundedCache(positiveInteger(options.poisonedCacheSize ?? 1_000, 'poisonedCacheSize'));
    this.compiledCacheSize = positiveInteger(options.compiledCacheSize ?? 1_000, 'compiledCacheSize');
    this.onTimeout = options.onTimeout;
    this.sandbox = { pattern: '', input: '', limit: this.compiledCacheSize };
    this.context = vm.createContext(this.sandbox, { codeGeneration: { strings: false, wasm: false } });
    vm.runInContext(SANDBOX_SETUP, this.context);
  }

  /** Whether `new RegExp(pattern)` (no flags) matches `input`; false when it cannot be decided in time. */
  test(pattern: string, input: string): boolean {
    if (pattern.length > MAX_GUARDED_PATTERN_LENGTH || input.length > MAX_GUARDED_INPUT_LENGTH) return false;
    if (this.poisoned.get(pattern) !== undefined) return false;
    // Length-prefixed so that no (pattern, input) pair can share a key with
    // another, whatever characters either contains.
    const key = `${pattern.length}:${pattern}${input}`;
    const cached = this.results.get(key);
    if (cached !== undefined) return cached;
    const result = MAY_BACKTRACK.test(pattern) ? this.sandboxed(pattern, input) : direct(pattern, input);
    this.results.set(key, result);
    return result;
  }

  private sandboxed(pattern: string, input: string): boolean {
    this.sandbox.pattern = pattern;
    this.sandbox.input = input;
    try {
      return this.call.runInContext(this.context, { timeout: this.timeoutMs }) === true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        this.poisoned.set(pattern, true);
        this.report({ pattern, input, timeoutMs: this.timeoutMs });
      }
      // An invalid pattern lands here too: it matches nothing.
      return false;
    }
  }

  private report(event: RegexTimeoutEvent): void {
    if (this.onTimeout === undefined) return;
    try {
      this.onTimeout(event);
    } catch {
      // A failing logger must not turn a denied match into a crashed command.
    }
  }
}

function direct(pattern: string, input: string): boolean {
  try {
    return new RegExp(pattern).test(input);
  } catch {
    return false;
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/** Least-recently-used map with a fixed capacity (a Map iterates in insertion order). */
class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }
}

/**
 * A guard with default limits and no timeout listener, for callers that do
 * not configure one. (Declared last: it is built at load time and needs the
 * classes above.)
 */
export const defaultRegexGuard = new RegexGuard();
