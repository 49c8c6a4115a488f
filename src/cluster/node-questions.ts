/**
 * The questions the server API asks every node, and how a node answers
 * them from its own connections. Payloads come from nodes of the same
 * deployment; an answerer that meets a malformed one throws, which counts
 * as no answer (the survey is partial), never as a crash.
 */
import type { ConnectionFilter, Node, ServerSubscribeOptions } from '../node/node.js';
import type { Disconnect } from '../protocol/errors.js';
import type { Cluster, SurveyResult } from './cluster.js';

/** Asks a node to act on a user's connections; answered with how many it acted on. */
export interface UserAction {
  user: string;
  filter: ConnectionFilter;
}

export interface DisconnectAction extends UserAction {
  disconnect: Disconnect;
}

export interface SubscribeAction extends UserAction {
  channel: string;
  options: ServerSubscribeOptions;
}

export interface UnsubscribeAction extends UserAction {
  /** A channel name, or `""` for every channel. */
  channel: string;
}

/** Question names, and what each payload is. */
export const Questions = {
  /** No payload; answered with `{<channel>: <local subscribers>}`. */
  channels: 'channels',
  disconnect: 'disconnect',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
} as const;

function userAction<T extends UserAction>(payload: unknown): T {
  const action = payload as T;
  if (typeof action?.user !== 'string' || typeof action.filter !== 'object' || action.filter === null) {
    throw new Error('malformed user action');
  }
  return action;
}

/** Makes `node` answer the server API's questions. */
export function answerForNode(cluster: Cluster, node: Node): void {
  cluster.answer(Questions.channels, () => Object.fromEntries(node.channelSubscribers()));
  cluster.answer(Questions.disconnect, (payload) => {
    const { user, filter, disconnect } = userAction<DisconnectAction>(payload);
    return node.disconnectUser(user, disconnect, filter);
  });
  cluster.answer(Questions.subscribe, (payload) => {
    const { user, filter, channel, options } = userAction<SubscribeAction>(payload);
    return node.subscribeUser(user, node.channels.resolve(channel), options, filter);
  });
  cluster.answer(Questions.unsubscribe, (payload) => {
    const { user, filter, channel } = userAction<UnsubscribeAction>(payload);
    return node.unsubscribeUser(user, channel, filter);
  });
}

/** Every node's channels with their subscriber counts, summed. */
export async function channelsOfCluster(cluster: Cluster): Promise<{ channels: Map<string, number>; survey: SurveyResult }> {
  const survey = await cluster.survey(Questions.channels);
  const channels = new Map<string, number>();
  for (const { answer } of survey.answers) {
    if (typeof answer !== 'object' || answer === null) continue;
    for (const [name, count] of Object.entries(answer)) {
      if (typeof count === 'number') channels.set(name, (channels.get(name) ?? 0) + count);
    }
  }
  return { channels, survey };
}

/** Acts on a user's connections wherever they are; resolves with how many connections it acted on. */
export async function actOnUser(
  cluster: Cluster,
  question: 'disconnect' | 'subscribe' | 'unsubscribe',
  action: DisconnectAction | SubscribeAction | UnsubscribeAction,
): Promise<{ count: number; survey: SurveyResult }> {
  const survey = await cluster.survey(question, action);
  const count = survey.answers.reduce((sum, { answer }) => sum + (typeof answer === 'number' ? answer : 0), 0);
  return { count, survey };
}
