/**
 * The command line of a `parley` subcommand: its own flags, and everything
 * else, which is handed to the configuration loader as configuration flags.
 */

/** Thrown for wrong command-line usage; the message is printed with the usage text. */
export class UsageError extends Error {}

/** A subcommand's own flags: those that take a value, and switches. */
export interface OwnFlags {
  values?: readonly string[];
  switches?: readonly string[];
}

/**
 * Splits `argv` into the subcommand's flags (`--name value`, `--name=value`,
 * or a bare switch) and the configuration flags, kept in order.
 * @throws UsageError when one of its value flags has no value, or a switch is given one.
 */
export function splitFlags(argv: readonly string[], own: OwnFlags): { own: Map<string, string | true>; config: string[] } {
  const values = new Set(own.values ?? []);
  const switches = new Set(own.switches ?? []);
  const found = new Map<string, string | true>();
  const config: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const [name, inline] = eq === -1 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
    if (switches.has(name)) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value`);
      found.set(name, true);
    } else if (values.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      found.set(name, value);
    } else {
      config.push(arg);
    }
  }
  return { own: found, config };
}
