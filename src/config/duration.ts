/**
 * Durations as people write them in config files and on the command line.
 * Everything inside the server counts in seconds, so that is what comes out.
 */

/** Milliseconds per unit; `ms` is the only unit that can produce fractional seconds. */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

/** Units from largest to smallest: a duration must list them in this order, each at most once. */
const UNIT_ORDER: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];

// `ms` is tried before `m` so that "500ms" is not read as 500 minutes and a stray "s".
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|d|h|m|s)/y;
const PLAIN_NUMBER = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

const HINT = 'a number of seconds or a duration like 500ms, 30s, 5m, 1h30m, 7d';

/**
 * Parses a duration into seconds.
 *
 * Accepts a non-negative finite number of seconds, a string holding one
 * (`"30"`, handy for flags and environment variables), or a string of
 * number-unit parts with units `d`, `h`, `m`, `s`, `ms` from largest to
 * smallest, each at most once: `"500ms"`, `"30s"`, `"5m"`, `"1h30m"`,
 * `"1.5h"`, `"7d"`. Surrounding whitespace is ignored; none is allowed inside.
 *
 * @returns seconds; fractional only when the input has fractions or `ms`.
 * @throws RangeError with a one-line message (including the rejected input) when the input is not a duration.
 */
export function parseDuration(input: number | string): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw invalid(input);
    return input;
  }
  const text = input.trim();
  if (PLAIN_NUMBER.test(text)) return Number(text);
  if (text === '') throw invalid(input);

  let totalMs = 0;
  let next = 0; // index into UNIT_ORDER: parts must come in decreasing unit order
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) throw invalid(input);
    const unit = match[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank < next) throw invalid(input);
    next = rank + 1;
    totalMs += Number(match[1]) * UNIT_MS[unit];
  }
  const seconds = totalMs / 1000;
  if (!Number.isFinite(seconds)) throw invalid(input);
  return seconds;
}

function invalid(input: number | string): RangeError {
  const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 40)) : String(input);
  return new RangeError(`invalid duration ${shown}: expected ${HINT}`);
}

/** What {@link parseDuration} accepts, for error messages that explain the expected form. */
export const DURATION_HINT = HINT;
