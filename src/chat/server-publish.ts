/**
 * Publications the server API makes into chat conversations.
 *
 * The web app renders only chat events (`{"type": "message", ...}` without
 * publisher `info`), so a plain payload published into `room:general` would
 * reach every subscriber yet show nowhere. This is where a server API
 * publication that reads as a chat message becomes one: stored in the chat
 * store (so `chat.history` and search have it) and published as a chat
 * `message` event, by the author the payload names. A client's publish
 * into a conversation takes the same path in `chat-publish.ts`.
 */
import type { ChannelSpec } from '../channel/channel.js';
import type { Node } from '../node/node.js';
import { Errors, ProtocolError } from '../protocol/errors.js';
import type { Publication, PublishRequest } from '../protocol/types.js';
import type { ChatModule } from './chat-module.js';
import { CHAT_NAMESPACES, chatTextOf } from './chat-publish.js';
import { namedAuthor } from './named-author.js';
import { cleanDisplayName } from './profile.js';
import { MAX_DISPLAY_NAME_LENGTH, type ChatUser } from './protocol.js';

/** Display name of messages the server posts when the payload names no author. */
export const SERVER_AUTHOR_NAME = 'Server';
/**
 * Prefix of the user ids of server API authors: each author name is its own
 * user `api:<hash of the name>` (see {@link namedAuthor}).
 */
export const API_USER_PREFIX = 'api:';

/** A publication from the server API. */
export interface ServerPublication {
  channel: ChannelSpec;
  /** The payload, as the caller gave it. */
  data: unknown;
  /** The payload's JSON text. */
  dataText: string;
  /** Neither store it in history nor give it an offset. */
  skipHistory: boolean;
  tags?: Record<string, string>;
  /**
   * Makes a retry publish nothing twice: the store's idempotency key for a
   * stored publication, the author's nonce for a chat message (both kept
   * durably, whichever node the retry reaches). Unused with `skipHistory`.
   */
  idempotencyKey?: string;
}

/** A chat message a payload asks for. */
interface ChatPost {
  text: string;
  author: ChatUser;
}

/**
 * Publishes on the server's authority: no publisher `info`, stored in the
 * channel's history when its namespace keeps one (unless `skipHistory`).
 *
 * In `room:` and `dm:` channels whose room or DM exists, a payload that is a
 * chat message (see `chatTextOf`: a string, or an object with a string
 * `text`), optionally naming its author with `username` or `name` (else
 * "Server"), is posted as a chat message by that author: each name is its
 * own user (`api:` and a hash of the name), so messages under different
 * names show under their own names and colors, and never as a signed-in
 * user. It is kept in the chat store, shows in the web app, and the
 * publication returned is the chat `message` event that carried it (with
 * its offset and epoch). Tags are not attached to such
 * messages. Any other payload, a `skipHistory` one, or one for a room or DM
 * that does not exist is published as given; the web app ignores it, but
 * every subscriber receives it.
 *
 * @throws ProtocolError 107 when a chat message's text or author name is
 *   invalid (empty, too long, control characters); 108 while the chat
 *   module shuts down.
 */
export async function publishFromServer(node: Node, chat: ChatModule, publication: ServerPublication): Promise<Publication> {
  const { channel } = publication;
  const post = publication.skipHistory ? undefined : chatPostOf(channel, publication.data);
  if (post) {
    try {
      return (await chat.post(post.author, channel.name, post.text, publication.idempotencyKey)).publication;
    } catch (error) {
      // 102: no such room or DM, so not a conversation; anything else is the caller's to hear.
      if (!(error instanceof ProtocolError) || error.code !== 102) throw error;
    }
  }
  const message: PublishRequest = { data: publication.dataText };
  if (publication.tags) message.tags = publication.tags;
  if (publication.idempotencyKey !== undefined && !publication.skipHistory) message.idempotencyKey = publication.idempotencyKey;
  return node.publish(channel, message, publication.skipHistory ? { history: false } : {});
}

function chatPostOf(channel: ChannelSpec, data: unknown): ChatPost | undefined {
  if (!CHAT_NAMESPACES.includes(channel.namespace)) return undefined;
  const text = chatTextOf(data);
  if (text === undefined) return undefined;
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  return { text, author: namedAuthor(API_USER_PREFIX, authorName(fields.username ?? fields.name)) };
}

function authorName(raw: unknown): string {
  if (typeof raw !== 'string') return SERVER_AUTHOR_NAME;
  const cleaned = cleanDisplayName(raw);
  if ('problem' in cleaned) {
    throw Errors.badRequest(
      cleaned.problem === 'too-long'
        ? `username is longer than ${MAX_DISPLAY_NAME_LENGTH} characters`
        : 'username contains control characters',
    );
  }
  return cleaned.name === '' ? SERVER_AUTHOR_NAME : cleaned.name;
}
