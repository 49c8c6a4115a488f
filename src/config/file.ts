/**
 * Reading the JSON config file. An absent default file is normal (everything
 * has a default); a file the operator named explicitly must exist.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, describeValue } from './config-error.js';
import { isObject } from './validate.js';

/** The file read when none is named, looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = 'parley.config.json';

/** A config file that was found and parsed. */
export interface ConfigFile {
  /** Absolute path. */
  readonly path: string;
  /** The path as shown in messages: relative to the working directory when inside it. */
  readonly label: string;
  /** The top-level JSON object. */
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Reads and parses the config file.
 * @param named - a path the operator gave (`--config`), relative to `cwd`; when absent the default file is tried.
 * @returns `undefined` when no file was named and the default file does not exist.
 * @throws ConfigError when a named file is missing, any file cannot be read, or it is not a JSON object.
 */
export async function readConfigFile(named: string | undefined, cwd: string): Promise<ConfigFile | undefined> {
  const path = resolve(cwd, named ?? DEFAULT_CONFIG_FILE);
  const fromCwd = relative(cwd, path);
  const label = fromCwd && !fromCwd.startsWith('..') && !isAbsolute(fromCwd) ? fromCwd : path;

  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && named === undefined) return undefined;
    const reason = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(`config file ${label} ${reason}`, { source: `file ${label}` });
  }

  let data: unknown;
  try {
    // Editors on some systems save a byte order mark, which JSON.parse rejects.
    data = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigError(`config file ${label} is not valid JSON${where(content, error)}`, {
      source: `file ${label}`,
    });
  }
  if (!isObject(data)) {
    throw new ConfigError(`config file ${label} must hold a JSON object (got ${describeValue(data)})`, {
      source: `file ${label}`,
    });
  }
  return { path, label, data };
}

/**
 * ` (line L, column C)` for a JSON.parse error, or nothing. Built from the
 * position only: V8's own message quotes the surrounding text, which could
 * be a secret.
 */
function where(content: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/unexpected end/i.test(message)) return ' (unexpected end of file)';
  const match = /at position (\d+)/.exec(message);
  if (!match) return '';
  const before = content.replace(/^\uFEFF/, '').slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}
