/**
 * Channel namespace options from the config file, merged over the built-in
 * namespaces, and checked for options that contradict each other.
 */
import { ConfigError, closestName } from './config-error.js';
import { BUILTIN_NAMESPACES, DEFAULT_NAMESPACE } from './defaults.js';
import { NAMESPACE_FIELDS, NAMESPACE_KEYS, NAMESPACE_NAME, isNamespaceKey } from './fields.js';
import type { NamespaceOptions } from './types.js';
import { isObject, note, reject, type At } from './validate.js';

const ACCESS_KEYS = ['allowPublish', 'allowSubscribe', 'allowPresence', 'allowHistory'] as const;

/** The namespace part of a resolved configuration. */
export interface ResolvedNamespaces {
  defaultNamespace: NamespaceOptions;
  namespaces: Record<string, NamespaceOptions>;
}

/**
 * Builds `defaultNamespace` and `namespaces` from the config file's values.
 *
 * - `defaultNamespace` is merged over the built-in default namespace.
 * - Each `namespaces` entry is merged over the built-in namespace of the same
 *   name, or else over the built-in default namespace (not over the file's
 *   `defaultNamespace`), so a namespace's options depend only on its own entry.
 * - Built-in namespaces not mentioned are kept as they are.
 *
 * The returned `namespaces` object has no prototype, so looking up a channel
 * prefix such as `constructor` finds nothing rather than an inherited property.
 *
 * @param source - where the values came from, for messages (`file parley.config.json`).
 * @throws ConfigError naming the first bad key.
 */
export function resolveNamespaces(
  fileDefault: unknown,
  fileNamespaces: unknown,
  source: string | undefined,
): ResolvedNamespaces {
  const defaultNamespace = merge(DEFAULT_NAMESPACE, fileDefault, { path: 'defaultNamespace', source, textual: false });
  if (defaultNamespace.membersFromName) {
    throw new ConfigError(
      `defaultNamespace.membersFromName must be false: channels without a namespace have no member list${note(source)}`,
      { key: 'defaultNamespace.membersFromName', source },
    );
  }
  checkConsistency(defaultNamespace, 'defaultNamespace', source);

  const namespaces: Record<string, NamespaceOptions> = Object.create(null) as Record<string, NamespaceOptions>;
  for (const [name, options] of Object.entries(BUILTIN_NAMESPACES)) namespaces[name] = { ...options };

  if (fileNamespaces !== undefined) {
    if (!isObject(fileNamespaces)) reject({ path: 'namespaces', source, textual: false }, 'an object', fileNamespaces);
    for (const [name, entry] of Object.entries(fileNamespaces)) {
      const path = `namespaces.${name}`;
      if (!NAMESPACE_NAME.test(name)) {
        throw new ConfigError(
          `namespace name ${JSON.stringify(name.slice(0, 40))} must match ${NAMESPACE_NAME.source}${note(source)}`,
          { key: path, source },
        );
      }
      const base = Object.hasOwn(BUILTIN_NAMESPACES, name) ? BUILTIN_NAMESPACES[name] : undefined;
      const options = merge(base ?? DEFAULT_NAMESPACE, entry, { path, source, textual: false });
      checkConsistency(options, path, source);
      namespaces[name] = options;
    }
  }
  return { defaultNamespace, namespaces };
}

/** `overrides` (checked key by key) over a copy of `base`. */
function merge(base: Readonly<NamespaceOptions>, overrides: unknown, at: At): NamespaceOptions {
  const merged: NamespaceOptions = { ...base };
  if (overrides === undefined) return merged;
  if (!isObject(overrides)) reject(at, 'an object of namespace options', overrides);
  for (const [key, value] of Object.entries(overrides)) {
    if (!isNamespaceKey(key)) {
      const suggestion = closestName(key, NAMESPACE_KEYS);
      throw new ConfigError(
        `unknown key ${at.path}.${key}${note(at.source)}${suggestion ? `; did you mean ${suggestion}?` : ''}`,
        { key: `${at.path}.${key}`, source: at.source },
      );
    }
    set(merged, key, value, { ...at, path: `${at.path}.${key}` });
  }
  return merged;
}

function set<K extends keyof NamespaceOptions>(target: NamespaceOptions, key: K, value: unknown, at: At): void {
  target[key] = NAMESPACE_FIELDS[key](value, at);
}

/** Rejects option combinations that cannot both hold. */
function checkConsistency(options: NamespaceOptions, path: string, source: string | undefined): void {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`${path}.${key} ${message}${note(source)}`, { key: `${path}.${key}`, source });
  };
  if (options.recover && options.historySize === 0) {
    fail('recover', `needs history: set ${path}.historySize > 0 or ${path}.recover to false`);
  }
  if (options.historyTtl > 0 && options.historySize === 0) {
    fail('historyTtl', `has no effect without history: set ${path}.historySize > 0 or ${path}.historyTtl to 0`);
  }
  if (options.allowedDeltaTypes.length > 0 && options.historySize === 0) {
    fail('allowedDeltaTypes', `needs history: set ${path}.historySize > 0 or ${path}.allowedDeltaTypes to []`);
  }
  for (const key of ACCESS_KEYS) {
    if (options[key] === 'members' && !options.membersFromName) {
      fail(key, `is "members" but ${path}.membersFromName is false, so channels have no member list`);
    }
  }
}
