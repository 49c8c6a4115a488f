/**
 * The one error configuration loading throws. Start-up prints its message and
 * exits non-zero, so the message must stand alone on one line, name the key,
 * and never reveal a secret.
 */

/** Keys whose values are never shown in an error message. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['tokenSecret', 'apiKey', 'redisUrl', 'postgresUrl']);

/** A configuration problem found at start-up. */
export class ConfigError extends Error {
  /** Dotted path of the offending key (`namespaces.room.historySize`), when one key is at fault. */
  readonly key: string | undefined;
  /** Where the value came from (`env PORT`, `flag --port`, `file parley.config.json`), when known. */
  readonly source: string | undefined;

  /**
   * @param message - the problem, without the `config: ` prefix; newlines are folded into spaces.
   */
  constructor(message: string, details: { key?: string; source?: string } = {}) {
    super(`config: ${message.replace(/\s*[\r\n]+\s*/g, ' ')}`);
    this.name = 'ConfigError';
    this.key = details.key;
    this.source = details.source;
  }
}

/** True for keys (or key paths ending in keys) whose values are secret. */
export function isSecretKey(path: string): boolean {
  return SECRET_KEYS.has(path.slice(path.lastIndexOf('.') + 1));
}

/**
 * A short, one-line description of a rejected value for "(got …)".
 * Secret values are described only by their type.
 */
export function describeValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (secret) return `a ${typeof value}`;
  if (typeof value === 'string') {
    // JSON.stringify escapes newlines and quotes, keeping the message on one line.
    return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  }
  return String(value);
}

/**
 * The known name closest to a misspelt one, if any is close enough to be a
 * plausible typo (edit distance at most 2, or a third of the name).
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
