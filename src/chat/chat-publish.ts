/**
 * What a publication into a chat conversation means. A conversation
 * (`room:` or `dm:` channel whose room exists or whose DM was opened) holds
 * chat events only; whatever is published there, by a client or through the
 * server API, that reads as a chat message becomes one: stored, searchable,
 * in `chat.history`, on `/ws`, and published as the chat `message` event.
 */
import type { Node, PublishHandler } from '../node/node.js';
import { Errors } from '../protocol/errors.js';
import type { ChatChannels } from './chat-channels.js';
import type { ChatService } from './chat-service.js';
import type { InFlight } from './in-flight.js';
import { callerOf } from './profile.js';
import type { ChatRpc } from './protocol.js';

/** The namespaces whose channels are conversations. */
export const CHAT_NAMESPACES: readonly string[] = Object.freeze(['room', 'dm']);

/**
 * The text a payload posts as a chat message: the payload itself when it is
 * a string, or its `text` when it is an object whose `text` is a string and
 * that has no `type` (a `type` makes it a chat event, such as an edit, which
 * also has a `text`). Undefined for any other payload. Whether the text is
 * valid (not blank, not too long) is `chat.send`'s decision, the same for
 * every path.
 */
export function chatTextOf(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const fields = data as Record<string, unknown>;
  return typeof fields.text === 'string' && !('type' in fields) ? fields.text : undefined;
}

/**
 * The `chat.send` request a client's publish stands for.
 * @throws ProtocolError 107 for a payload that is not a chat message (so no
 *   one can publish an edit, a deletion or a forged message event into a
 *   conversation) or a `nonce` that is not a string.
 */
export function sendRequestOf(channel: string, data: unknown): ChatRpc['chat.send']['request'] {
  const text = chatTextOf(data);
  if (text === undefined) {
    throw Errors.badRequest('Only chat messages can be published in a conversation: publish {"text": "..."}');
  }
  const nonce = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).nonce : undefined;
  if (nonce === undefined || nonce === null) return { channel, text };
  if (typeof nonce !== 'string') throw Errors.badRequest('nonce must be a string');
  return { channel, text, nonce };
}

/**
 * Makes a client's `publish` into a conversation the same as `chat.send`
 * with the payload's text (and `nonce`), by the publishing user: the same
 * checks (101 anonymous, 103, 107 with the same messages), the same storage
 * and events, acknowledged once the message is durable. Publications into
 * `room:` and `dm:` channels that are no conversation (no such room, DM not
 * opened) are published as given.
 */
export function registerClientPublish(node: Node, chat: ChatService, channels: ChatChannels, inFlight: InFlight): void {
  const handler: PublishHandler = (context, channel, data) =>
    inFlight.run(async () => {
      if (!(await channels.isConversation(channel))) return false;
      await chat.send(callerOf(context), sendRequestOf(channel.name, data));
      return true;
    });
  for (const namespace of CHAT_NAMESPACES) node.registerPublishHandler(namespace, handler);
}
