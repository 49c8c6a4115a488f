/**
 * Access checks that depend on state the channel rules cannot see (who is a
 * member of a private room, who is banned or muted), registered per
 * namespace by the module that owns that state. The node knows nothing of
 * what a gate decides: it only runs it before every client operation on a
 * channel of its namespace.
 */
import type { ChannelOperation } from '../auth/permissions.js';
import type { ChannelSpec } from '../channel/channel.js';

/**
 * Decides whether `user` ("" when anonymous) may perform `operation` on
 * `channel` now, after the channel rules (token permissions, namespace
 * rules, subscription tokens) allowed it. Resolves to allow; rejects with a
 * ProtocolError (103 with a message) to refuse. Runs on every subscribe,
 * publish, history and presence command of the namespace, so it must be
 * cheap: one store read at most.
 */
export type ChannelGate = (user: string, channel: ChannelSpec, operation: ChannelOperation) => Promise<void>;

/** The gates of a node, one per namespace at most. */
export class ChannelGates {
  private readonly byNamespace = new Map<string, ChannelGate>();

  /** Sets the gate of a namespace's channels; a second registration for a namespace replaces the first. */
  register(namespace: string, gate: ChannelGate): void {
    this.byNamespace.set(namespace, gate);
  }

  /** Resolves when the operation may go ahead (always, in a namespace without a gate); rejects with the gate's refusal. */
  async check(user: string, channel: ChannelSpec, operation: ChannelOperation): Promise<void> {
    const gate = this.byNamespace.get(channel.namespace);
    if (gate) await gate(user, channel, operation);
  }
}
