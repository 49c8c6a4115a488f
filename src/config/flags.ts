/**
 * Command-line flags for configuration: `--kebab-case` of every top-level
 * scalar key, plus `--config PATH`. The CLI strips its own command words and
 * passes the rest here; anything unrecognised is an error, so a typo cannot
 * silently leave a default in place.
 */
import { ConfigError, closestName } from './config-error.js';
import { SCALAR_KEYS, SWITCH_KEYS, type ScalarKey } from './fields.js';

/** A configuration value given as a flag. */
export interface FlagValue {
  readonly key: ScalarKey;
  /** Text for value flags; a boolean for switches given without `=value`. */
  readonly value: string | boolean;
  /** The flag as written, without any `=value`, e.g. `--port`. */
  readonly flag: string;
}

/** The result of {@link parseFlags}. */
export interface ParsedFlags {
  /** The `--config` path, if given. */
  readonly configPath: string | undefined;
  /** Values in command-line order; a repeated flag's last value wins. */
  readonly values: readonly FlagValue[];
}

/** `dataDir` → `data-dir`. */
export function flagName(key: ScalarKey): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

const FLAG_KEYS: ReadonlyMap<string, ScalarKey> = new Map(SCALAR_KEYS.map((key) => [flagName(key), key]));
const CONFIG_FLAG = '--config';

/**
 * Parses configuration flags.
 *
 * Value flags take `--name value` or `--name=value`. Switches (boolean keys)
 * take `--name` (true), `--no-name` (false), `--name=true|false`, or
 * `--name true|false`.
 *
 * @throws ConfigError on an unknown flag, a missing value, or a bare argument.
 */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  let configPath: string | undefined;
  const values: FlagValue[] = [];

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('--') || token === '--') {
      // The token is not echoed: a misplaced secret would otherwise end up in the message.
      throw new ConfigError(`unexpected argument at position ${i + 1} (options are --name value)`);
    }
    const eq = token.indexOf('=');
    const flag = eq === -1 ? token : token.slice(0, eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);

    // The next token is a value unless it is itself a flag.
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new ConfigError(`flag ${flag} needs a value`, { source: `flag ${flag}` });
      }
      i++;
      return next;
    };

    if (flag === CONFIG_FLAG) {
      configPath = takeValue();
      continue;
    }

    const key = FLAG_KEYS.get(flag);
    if (key !== undefined && SWITCH_KEYS.has(key)) {
      const next = argv[i + 1];
      if (inline !== undefined) {
        values.push({ key, value: inline, flag });
      } else if (next === 'true' || next === 'false') {
        values.push({ key, value: next, flag });
        i++;
      } else {
        values.push({ key, value: true, flag });
      }
      continue;
    }
    if (key !== undefined) {
      values.push({ key, value: takeValue(), flag });
      continue;
    }

    const negated = flag.startsWith('--no-') ? FLAG_KEYS.get(`--${flag.slice(5)}`) : undefined;
    if (negated !== undefined && SWITCH_KEYS.has(negated) && inline === undefined) {
      values.push({ key: negated, value: false, flag });
      continue;
    }

    const suggestion = closestName(flag, [CONFIG_FLAG, ...FLAG_KEYS.keys()]);
    throw new ConfigError(`unknown flag ${flag}${suggestion ? `; did you mean ${suggestion}?` : ''}`, {
      source: `flag ${flag}`,
    });
  }

  return { configPath, values };
}
