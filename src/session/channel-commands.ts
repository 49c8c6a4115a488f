/**
 * The client commands that read or write a channel without subscribing to
 * it: publish, presence, presence_stats and history. Each checks the
 * caller's right to the operation, asks the node, and returns the reply.
 */
import { historyLimitFor, isAllowed, type Principal } from '../channel/access.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Node } from '../node/node.js';
import type { CommandRequests } from '../protocol/commands.js';
import { Errors } from '../protocol/errors.js';
import type { Reply } from '../protocol/messages.js';
import type { ClientInfo } from '../protocol/types.js';
import type { SessionProxy } from '../proxy/session-proxy.js';

/** Who sends the command. */
export interface CommandCaller {
  readonly node: Node;
  readonly principal: Principal;
  /** The connection's identity, attached to what it publishes. */
  readonly info: ClientInfo;
  /** The connection's side of the backend proxy, when one is configured. */
  readonly proxy?: SessionProxy | undefined;
}

/** The channel, once the channel rules and then the namespace's gate allowed the operation. */
function resolveFor(caller: CommandCaller, operation: 'publish' | 'history' | 'presence', name: string): Promise<ChannelSpec> {
  return allowed(caller, operation, caller.node.channels.resolve(name));
}

async function allowed(caller: CommandCaller, operation: 'publish' | 'history' | 'presence', channel: ChannelSpec): Promise<ChannelSpec> {
  if (!isAllowed(operation, channel, caller.principal)) throw Errors.permissionDenied();
  await caller.node.gates.check(caller.principal.user, channel, operation);
  return channel;
}

/**
 * Publishes the client's data, answering once it is published (and durable,
 * in a channel with history). The node decides what a publication into a
 * namespace means: in chat conversations it is a chat message.
 *
 * In a namespace with `proxyPublish` the backend decides instead of
 * `allowPublish` (the gate still has its say), and what it answers is
 * published: the client's data or the backend's rewrite, kept out of
 * history when it says `skip_history`.
 */
export async function publishCommand(caller: CommandCaller, id: number, request: CommandRequests['publish']): Promise<Reply> {
  const { node, principal, info, proxy } = caller;
  const channel = node.channels.resolve(request.channel);
  const context = { user: principal.user, client: info.client, info, permissions: principal.permissions };
  if (proxy && channel.options.proxyPublish) {
    await node.gates.check(principal.user, channel, 'publish');
    const decision = await proxy.publish(channel.name, request.data);
    await node.publishFromClient(context, channel, decision.data, decision.skipHistory ? { history: false } : {});
  } else {
    await node.publishFromClient(context, await allowed(caller, 'publish', channel), request.data);
  }
  return { id, method: 'publish', result: {} };
}

export async function presenceCommand(caller: CommandCaller, id: number, request: CommandRequests['presence']): Promise<Reply> {
  const channel = await resolveFor(caller, 'presence', request.channel);
  const presence = await caller.node.presenceOf(channel);
  return { id, method: 'presence', result: { presence: Object.fromEntries(presence) } };
}

export async function presenceStatsCommand(
  caller: CommandCaller,
  id: number,
  request: CommandRequests['presence_stats'],
): Promise<Reply> {
  const channel = await resolveFor(caller, 'presence', request.channel);
  const stats = await caller.node.presenceStats(channel);
  return { id, method: 'presence_stats', result: { num_clients: stats.numClients, num_users: stats.numUsers } };
}

export async function historyCommand(caller: CommandCaller, id: number, request: CommandRequests['history']): Promise<Reply> {
  const channel = await resolveFor(caller, 'history', request.channel);
  const { node } = caller;
  const cap = Math.min(node.config.historyMaxLimit, historyLimitFor(channel, caller.principal) ?? Infinity);
  const requested = request.limit ?? 0;
  const limit = requested < 0 ? cap : Math.min(requested, cap);
  const since = request.since && { offset: request.since.offset ?? 0, epoch: request.since.epoch ?? '' };
  const page = await node.history(channel, { limit, since, reverse: request.reverse === true, maxBytes: node.config.historyMaxBytes });
  return { id, method: 'history', result: { publications: page.publications, epoch: page.position.epoch, offset: page.position.offset } };
}
