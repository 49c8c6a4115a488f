import type { AccessRule, NamespaceOptions } from '../config/types.js';
import type { ChannelOperation, PermissionSet } from '../auth/permissions.js';
import type { ChannelSpec } from './channel.js';

/** Who is asking: the user of a connection and its token's permission claim, if any. */
export interface Principal {
  readonly user: string;
  readonly permissions?: PermissionSet | undefined;
}

const RULE_OF: Record<ChannelOperation, keyof NamespaceOptions> = {
  publish: 'allowPublish',
  subscribe: 'allowSubscribe',
  history: 'allowHistory',
  presence: 'allowPresence',
};

/**
 * Decides whether a principal may perform an operation on a channel.
 * A token's `permissions` claim, when present, decides alone; otherwise the
 * namespace's rule does. Subscription tokens are checked elsewhere: they
 * grant a subscription regardless of these rules.
 */
export function isAllowed(operation: ChannelOperation, channel: ChannelSpec, principal: Principal): boolean {
  if (principal.permissions) return principal.permissions.allows(operation, channel.name);
  const rule = channel.options[RULE_OF[operation]] as AccessRule;
  if (rule === 'members') return principal.user !== '' && (channel.members?.includes(principal.user) ?? false);
  return rule;
}

/**
 * The largest history page a principal may read from a channel, or
 * undefined for "no limit beyond the server's own".
 */
export function historyLimitFor(channel: ChannelSpec, principal: Principal): number | undefined {
  return principal.permissions?.historyLimit(channel.name);
}
