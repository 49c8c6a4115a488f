/**
 * The server API methods: what each reads from its request and what it
 * does, with the request and result shapes of Centrifugo's server API
 * (`internal/apiproto/api.proto`). Every method runs in two steps:
 * `parse` checks the whole request first (a malformed one changes nothing),
 * then `run` acts and returns the result object.
 *
 * Errors: `parse` throws {@link MalformedRequest} (HTTP 400) for a wrong JSON
 * type; both steps throw ProtocolError for errors that Centrifugo reports
 * in the response body (102 unknown channel, 107 bad request, 108 not
 * available, 112 unrecoverable position, 100 internal).
 */
import type { ChannelSpec } from '../channel/channel.js';
import type { Cluster } from '../cluster/cluster.js';
import type { ConnectionDenials } from '../cluster/connection-denials.js';
import { channelsOfCluster } from '../cluster/node-questions.js';
import type { ChatModule } from '../chat/chat-module.js';
import { publishFromServer } from '../chat/server-publish.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import { encodePublications, RawJson } from '../protocol/encode.js';
import { Errors } from '../protocol/errors.js';
import type { Publication } from '../protocol/types.js';
import { method, toProtocolError, type ApiMethod, type ApiResult } from './api-method.js';
import type { Fields } from './api-request.js';
import { connectionMethods } from './connection-methods.js';
import { Glob, GlobSyntaxError } from './glob.js';
import { IdempotencyCache } from './idempotency.js';
import { payloadOf, type Payload } from './payload.js';

export interface ApiMethodsOptions {
  config: Config;
  node: Node;
  chat: ChatModule;
  logger: Logger;
  /** The deployment's nodes: `info`, `channels` and the connection methods reach all of them. */
  cluster: Cluster;
  /** Users `disconnect` just removed for good. */
  denials: ConnectionDenials;
}

/** Longest `idempotency_key` accepted: keys are stored with every keyed publication for the window. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

interface PublishParams {
  data: Payload;
  skipHistory: boolean;
  tags: Record<string, string> | undefined;
  idempotencyKey: string;
}

function readPublish(fields: Fields): PublishParams {
  const tags = fields.stringMap('tags');
  const skipHistory = fields.boolean('skip_history');
  const idempotencyKey = fields.string('idempotency_key');
  if (idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw Errors.badRequest(`idempotency_key must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  // Accepted for compatibility, without effect: deltas are an optional optimization, versions are not tracked.
  fields.boolean('delta');
  fields.uint64('version');
  fields.string('version_epoch');
  const data = payloadOf(fields, 'data', 'b64data');
  if (!data) throw Errors.badRequest('data is required');
  return { data, skipHistory, tags, idempotencyKey };
}

function publicationResult(publication: Publication): ApiResult {
  return publication.offset ? { offset: publication.offset, epoch: publication.epoch ?? '' } : {};
}

/** Every method, by name (batch excepted: see `server-api.ts`). */
export function apiMethods(options: ApiMethodsOptions): Map<string, ApiMethod> {
  const { config, node, chat, cluster } = options;
  const idempotency = new IdempotencyCache<ApiResult>();

  const resolve = (name: string): ChannelSpec => node.channels.resolve(name);

  const publishTo = (channel: ChannelSpec, params: PublishParams): Promise<ApiResult> => {
    const publish = async () =>
      publicationResult(
        await publishFromServer(node, chat, {
          channel,
          data: params.data.value,
          dataText: params.data.text,
          skipHistory: params.skipHistory,
          ...(params.tags ? { tags: params.tags } : {}),
          ...(params.idempotencyKey === '' ? {} : { idempotencyKey: params.idempotencyKey }),
        }),
      );
    // A stored publication's key is kept by the store (durably, for every node). One without history
    // has nothing durable to key it to, so this node remembers its result instead.
    const stored = channel.historyEnabled && !params.skipHistory;
    return params.idempotencyKey === '' || stored ? publish() : idempotency.once(channel.name, params.idempotencyKey, publish);
  };

  const methods = new Map<string, ApiMethod>();
  const define = <P>(name: string, definition: ApiMethod<P>): void => {
    methods.set(name, method(definition));
  };

  /**
   * `{channel, data | b64data, skip_history?, tags?, idempotency_key?}` →
   * `{offset, epoch}` when the channel keeps history, else `{}`. The
   * publication carries no publisher `info` and is stored as the namespace
   * says. In `room:` and `dm:` channels whose room or DM exists, a string
   * payload or one with a string `text` (and optional `username`/`name`) is
   * posted as a chat message by the server instead: subscribers receive the
   * chat `message` event, `chat.history` and the web app show it. Any other
   * payload to those channels is published as given, which the web app
   * ignores (see `publishFromServer`).
   */
  define('publish', {
    parse: (fields) => ({ channel: fields.string('channel'), ...readPublish(fields) }),
    run: async (params) => publishTo(resolve(params.channel), params),
  });

  /** `{channels, data | b64data, ...}` as `publish`, per channel → `{responses: [{result} | {error}, ...]}` in `channels` order. */
  define('broadcast', {
    parse: (fields) => {
      const channels = fields.strings('channels');
      const params = readPublish(fields);
      if (channels.length === 0) throw Errors.badRequest('channels are required');
      return { channels, ...params };
    },
    run: async (params) => {
      // Each channel answers for itself: one failing does not stop the others.
      const responses = await Promise.all(
        params.channels.map(async (name) => {
          try {
            return { result: await publishTo(resolve(name), params) };
          } catch (error) {
            return { error: toProtocolError(error, options.logger, { method: 'broadcast', channel: name }).toJSON() };
          }
        }),
      );
      return { responses: responses.map(({ result, error }) => (error ? { error } : { result })) };
    },
  });

  /** `{channel}` → `{presence: {<client>: {client, user, conn_info?, chan_info?}}}`; 108 without presence, 106 above `presenceMaxClients`. */
  define('presence', {
    parse: (fields) => fields.string('channel'),
    run: async (channel) => {
      const presence: Record<string, unknown> = {};
      for (const [client, info] of await node.presenceOf(resolve(channel))) {
        const entry: Record<string, unknown> = { client: info.client, user: info.user };
        if (info.conn_info !== undefined) entry.conn_info = info.conn_info;
        if (info.chan_info !== undefined) entry.chan_info = info.chan_info;
        presence[client] = entry;
      }
      return { presence };
    },
  });

  /** `{channel}` → `{num_clients, num_users}`; 108 without presence. */
  define('presence_stats', {
    parse: (fields) => fields.string('channel'),
    run: async (channel) => {
      const stats = await node.presenceStats(resolve(channel));
      return { num_clients: stats.numClients, num_users: stats.numUsers };
    },
  });

  /**
   * `{channel, limit?, since?: {offset, epoch}, reverse?}` →
   * `{publications: [{data, offset?, info?, tags?}], epoch, offset}`; 108
   * without history, 112 when `since` is from another epoch or no longer
   * retained. Pages hold at most `historyMaxLimit` publications.
   */
  define('history', {
    parse: (fields) => {
      const since = fields.object('since');
      return {
        channel: fields.string('channel'),
        limit: fields.int32('limit'),
        since: since && { offset: since.uint64('offset'), epoch: since.string('epoch') },
        reverse: fields.boolean('reverse'),
      };
    },
    run: async (params) => {
      // Without a limit, only the position (as in Centrifugo); a negative one asks for as many as allowed.
      const cap = config.historyMaxLimit;
      const limit = params.limit < 0 ? cap : Math.min(params.limit, cap);
      const page = await node.history(resolve(params.channel), { limit, since: params.since, reverse: params.reverse });
      return {
        publications: new RawJson(encodePublications(page.publications)),
        epoch: page.position.epoch,
        offset: page.position.offset,
      };
    },
  });

  /** `{channel}` → `{}`: the history is dropped and the stream gets a new epoch; 108 without history. */
  define('history_remove', {
    parse: (fields) => fields.string('channel'),
    run: async (name) => {
      const channel = resolve(name);
      if (!channel.historyEnabled) throw Errors.notAvailable('history is not enabled for this channel');
      await node.removeHistory(channel);
      return {};
    },
  });

  /**
   * `{pattern?}` (a glob) → `{channels: {<name>: {num_clients}}}` for channels with subscribers on any node,
   * counts summed over the nodes. When a live node did not answer in time, the result also has
   * `partial: true` and `missing_nodes: [<uid>]`, and its subscribers are not counted.
   */
  define('channels', {
    parse: (fields) => {
      const pattern = fields.string('pattern');
      if (pattern === '') return undefined;
      try {
        return Glob.compile(pattern);
      } catch (error) {
        if (error instanceof GlobSyntaxError) throw Errors.badRequest(`invalid pattern: ${error.message}`);
        throw error;
      }
    },
    run: async (glob) => {
      const merged = await channelsOfCluster(cluster);
      const channels: Record<string, { num_clients: number }> = {};
      for (const [name, count] of merged.channels) {
        if (!glob || glob.matches(name)) channels[name] = { num_clients: count };
      }
      if (!merged.survey.partial) return { channels };
      return { channels, partial: true, missing_nodes: merged.survey.missing };
    },
  });

  /**
   * `{}` → `{nodes: [{uid, name, version, num_clients, num_users, num_channels, num_subs, uptime}]}`:
   * every live node (this one first), with the counts of its last heartbeat.
   */
  define('info', {
    parse: () => undefined,
    run: async () => ({
      nodes: cluster.nodes().map(({ id, name, version, stats }) => ({
        uid: id,
        name,
        version,
        num_clients: stats.clients,
        num_users: stats.users,
        num_channels: stats.channels,
        num_subs: stats.subscriptions,
        uptime: stats.uptimeSeconds,
      })),
    }),
  });

  for (const [name, method] of connectionMethods(node, cluster, options.denials)) methods.set(name, method);
  return methods;
}
