/**
 * Server API methods that act on users' connections on whichever node holds them:
 * `disconnect`, `subscribe` and `unsubscribe` (Centrifugo's
 * `DisconnectRequest`, `SubscribeRequest`, `UnsubscribeRequest`).
 *
 * Connections are selected by `user` (`""` selects anonymous connections),
 * narrowed by `client`. Parley gives each connection one id, so `session`
 * (a separate id in Centrifugo) is matched against the client id as well.
 */
import type { Cluster } from '../cluster/cluster.js';
import type { ConnectionDenials } from '../cluster/connection-denials.js';
import { actOnUser, Questions } from '../cluster/node-questions.js';
import { disconnectUserEverywhere, DENY_RECONNECT_MS } from '../cluster/user-disconnect.js';
import type { ConnectionFilter, Node } from '../node/node.js';
import { customDisconnect, customDisconnectProblem, Disconnects, Errors, type Disconnect } from '../protocol/errors.js';
import { method, type ApiMethod } from './api-method.js';
import type { Fields } from './api-request.js';
import { payloadOf } from './payload.js';

/** The connections a request selects: undefined when `client` and `session` contradict each other. */
function filterOf(fields: Fields): ConnectionFilter | undefined {
  const client = fields.string('client');
  const session = fields.string('session');
  if (client !== '' && session !== '' && client !== session) return undefined;
  const id = client || session;
  return id === '' ? {} : { client: id };
}

function disconnectOf(fields: Fields): Disconnect {
  const given = fields.object('disconnect');
  if (!given) return Disconnects.forceDisconnect;
  const code = given.uint32('code');
  const reason = given.string('reason');
  const problem = customDisconnectProblem(code, reason);
  if (problem) throw Errors.badRequest(problem);
  return customDisconnect(code, reason);
}

export function connectionMethods(node: Node, cluster: Cluster, denials: ConnectionDenials): Map<string, ApiMethod> {
  const methods = new Map<string, ApiMethod>();

  /**
   * Closes the user's connections (all, or `client`, minus `whitelist`) with
   * `disconnect: {code, reason}`, by default 3503 "force disconnect" (the
   * client does not reconnect). Such a terminal disconnect of all the
   * user's connections also refuses their new connections for
   * {@link DENY_RECONNECT_MS}, so one that was connecting meanwhile cannot slip past.
   */
  methods.set('disconnect', method({
    parse: (fields) => ({
      user: fields.string('user'),
      filter: filterOf(fields),
      except: fields.strings('whitelist'),
      disconnect: disconnectOf(fields),
    }),
    run: async ({ user, filter, except, disconnect }) => {
      if (!filter) return {};
      await disconnectUserEverywhere({ cluster, denials, logger: node.logger }, user, disconnect, { ...filter, except });
      return {};
    },
  }));

  /**
   * Subscribes the user's connections to `channel` on the server's
   * authority: each gets a `subscribe` push (with `data`), is shown with
   * `info` as `chan_info`, and recovers from `recover_since` when the
   * channel can. Connections already subscribed are left as they are.
   * `expire_at` and `override` are accepted and have no effect.
   */
  methods.set('subscribe', method({
    parse: (fields) => {
      const since = fields.object('recover_since');
      fields.int64('expire_at');
      fields.object('override');
      // Type checks of every field come before the checks of their values.
      fields.string('b64info');
      fields.string('b64data');
      return {
        user: fields.string('user'),
        channel: fields.string('channel'),
        filter: filterOf(fields),
        info: payloadOf(fields, 'info', 'b64info'),
        data: payloadOf(fields, 'data', 'b64data'),
        recoverSince: since && { offset: since.uint64('offset'), epoch: since.string('epoch') },
      };
    },
    run: async ({ user, channel, filter, info, data, recoverSince }) => {
      const spec = node.channels.resolve(channel);
      if (!filter) return {};
      const options = {
        ...(info ? { info: info.value } : {}),
        ...(data ? { data: data.text } : {}),
        ...(recoverSince ? { recoverSince } : {}),
      };
      await actOnUser(cluster, Questions.subscribe, { user, channel: spec.name, options, filter });
      return {};
    },
  }));

  /**
   * Ends the user's subscriptions to `channel` (to every channel when it is
   * `""`), with an `unsubscribe` push (code 2000: the SDK does not
   * resubscribe).
   */
  methods.set('unsubscribe', method({
    parse: (fields) => ({ user: fields.string('user'), channel: fields.string('channel'), filter: filterOf(fields) }),
    run: async ({ user, channel, filter }) => {
      const name = channel === '' ? '' : node.channels.resolve(channel).name;
      if (filter) await actOnUser(cluster, Questions.unsubscribe, { user, channel: name, filter });
      return {};
    },
  }));

  return methods;
}
