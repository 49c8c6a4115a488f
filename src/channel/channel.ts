import type { Config, NamespaceOptions } from '../config/types.js';
import { Errors } from '../protocol/errors.js';

/** Longest channel name accepted, in UTF-16 code units. */
export const MAX_CHANNEL_LENGTH = 255;

/** Everything the server needs to know about one channel name. */
export interface ChannelSpec {
  readonly name: string;
  /** Namespace name, "" for the default namespace. */
  readonly namespace: string;
  readonly options: NamespaceOptions;
  /** User ids listed in the name, when the namespace derives members from it. */
  readonly members: readonly string[] | undefined;
  /** Whether publications are stored (history size above 0). */
  readonly historyEnabled: boolean;
}

// Control characters and whitespace would make channel names ambiguous in
// logs and UIs; everything else (including non-ASCII) is allowed.
const INVALID_CHANNEL_CHARS = /[\s\u0000-\u001f\u007f]/;

/** Prefix of the default namespace's observable channels (see {@link ChannelResolver}). */
export const OBSERVABLE_PREFIX = 'observable-';

/**
 * Resolves channel names to their namespace options. One instance per
 * server, built from the frozen config; results are cached because the same
 * few channels are resolved on every publish.
 *
 * Observable rooms: a channel of the default namespace (no colon) whose name
 * starts with {@link OBSERVABLE_PREFIX}, such as `observable-room`, keeps
 * presence and pushes join and leave events, as Scaledrone's observable
 * rooms do, so their clients get a live member list without any
 * configuration. Such a channel takes the configured default namespace's
 * options with `presence` and `joinLeave` turned on; every other option
 * (history, access rules) stays as configured, and other channels of the
 * default namespace are not affected.
 */
export class ChannelResolver {
  private readonly cache = new Map<string, ChannelSpec>();
  private static readonly CACHE_LIMIT = 10_000;
  private readonly observableOptions: NamespaceOptions;

  constructor(private readonly config: Pick<Config, 'defaultNamespace' | 'namespaces'>) {
    this.observableOptions = Object.freeze({ ...config.defaultNamespace, presence: true, joinLeave: true });
  }

  /**
   * Returns the channel's spec.
   * @throws ProtocolError 107 for a malformed name, 102 for an unknown namespace
   *   or a member list that breaks the namespace's rules.
   */
  resolve(name: unknown): ChannelSpec {
    if (typeof name !== 'string') throw Errors.badRequest('channel must be a string');
    const cached = this.cache.get(name);
    if (cached) return cached;
    const spec = this.build(name);
    if (this.cache.size >= ChannelResolver.CACHE_LIMIT) this.cache.clear();
    this.cache.set(name, spec);
    return spec;
  }

  private build(name: string): ChannelSpec {
    if (name.length === 0) throw Errors.badRequest('channel is required');
    if (name.length > MAX_CHANNEL_LENGTH) {
      throw Errors.badRequest(`channel is longer than ${MAX_CHANNEL_LENGTH} characters`);
    }
    if (INVALID_CHANNEL_CHARS.test(name)) throw Errors.badRequest('channel contains whitespace or control characters');
    const colon = name.indexOf(':');
    const namespace = colon === -1 ? '' : name.slice(0, colon);
    const options = namespace !== ''
      ? this.config.namespaces[namespace]
      : name.startsWith(OBSERVABLE_PREFIX)
        ? this.observableOptions
        : this.config.defaultNamespace;
    if (!options) throw Errors.unknownChannel(`unknown namespace "${namespace}"`);
    const members = options.membersFromName ? parseMembers(name.slice(colon + 1)) : undefined;
    return Object.freeze({
      name,
      namespace,
      options,
      members: members && Object.freeze(members),
      historyEnabled: options.historySize > 0,
    });
  }
}

function parseMembers(list: string): string[] {
  const members = list.split(',');
  if (members.some((member) => member.length === 0)) {
    throw Errors.unknownChannel('channel member list has an empty user id');
  }
  for (let i = 1; i < members.length; i++) {
    // One channel per group: "dm:alice,bob" exists, "dm:bob,alice" does not.
    if ((members[i - 1] as string) > (members[i] as string)) {
      throw Errors.unknownChannel('channel member ids must be in ascending order');
    }
  }
  return members;
}
