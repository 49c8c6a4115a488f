import { historyLimitFor } from '../channel/access.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Node } from '../node/node.js';
import { IDEMPOTENCY_WINDOW_MS } from '../store/store.js';
import { Errors, type ProtocolError } from '../protocol/errors.js';
import type { ChatChannel, ChatChannels } from './chat-channels.js';
import type { ChatStore, MessageRefusal } from './chat-store.js';
import type { ProfileBook } from './profile-book.js';
import type { Caller } from './profile.js';
import type { Publication } from '../protocol/types.js';
import type { ChannelEvent, ChatMessage, ChatRpcRequest, ChatRpcResult, ChatUser } from './protocol.js';
import type { ModerationService } from './moderation-service.js';
import type { UserEvents } from './user-events.js';
import * as valid from './validation.js';
import { WindowLimiter } from './window-limiter.js';


/**
 * Typing notices per user and channel: one per this period, extras are
 * dropped. Clients send one every 2 s at most; the server's window is
 * shorter so that network jitter between two notices never makes it drop
 * the second (the indicator would then not show at all).
 */
export const TYPING_INTERVAL_MS = 1500;
const HISTORY_DEFAULT = 50;
const HISTORY_MAX = 100;
const SEARCH_DEFAULT = 20;
const SEARCH_MAX = 50;

/** What {@link ChatService} works with. */
export interface ChatServiceOptions {
  node: Node;
  store: ChatStore;
  channels: ChatChannels;
  profiles: ProfileBook;
  userEvents: UserEvents;
  /** Deletes others' messages for a room's moderators. */
  moderation: ModerationService;
}

/**
 * The message side of the chat: sending, editing, deleting, reacting,
 * typing, reading history, searching and read positions.
 *
 * Every change is made durable in the chat store first, then published as a
 * {@link ChannelEvent} in the conversation's channel, so live subscribers see
 * it at once and a client that reconnects recovers it from the channel's
 * stream (typing notices excepted: they are not kept). Events of one channel
 * are published in the order their changes were stored: the store settles
 * writes in call order and each event is published as soon as its write
 * settles, with nothing awaited in between, and a publish takes its place in
 * the stream when it is called.
 *
 * Events are published without `info`. A client's own `publish` into a
 * conversation is turned into {@link send} (see `chat-publish.ts`), so a
 * conversation's stream holds chat events only.
 */
export class ChatService {
  private readonly node: Node;
  private readonly store: ChatStore;
  private readonly channels: ChatChannels;
  private readonly profiles: ProfileBook;
  private readonly userEvents: UserEvents;
  private readonly moderation: ModerationService;
  private readonly typing = new WindowLimiter(1, TYPING_INTERVAL_MS);

  constructor(options: ChatServiceOptions) {
    this.node = options.node;
    this.store = options.store;
    this.channels = options.channels;
    this.profiles = options.profiles;
    this.userEvents = options.userEvents;
    this.moderation = options.moderation;
  }

  /** Adds a message; a retry with the same nonce returns the first one and publishes nothing. */
  async send(caller: Caller, request: ChatRpcRequest<'chat.send'>): ChatRpcResult<'chat.send'> {
    const text = valid.messageText(request.text);
    const nonce = valid.sendNonce(request.nonce);
    const channel = await this.channels.open(request.channel, 'publish', caller.principal);
    const { message } = await this.addMessage(channel.spec, caller.user, text, nonce);
    return { message };
  }

  /** Replaces the text of one of the caller's messages. */
  async edit(caller: Caller, request: ChatRpcRequest<'chat.edit'>): ChatRpcResult<'chat.edit'> {
    const text = valid.messageText(request.text);
    const channel = await this.channels.open(request.channel, 'publish', caller.principal);
    const change = await this.store.editMessage(channel.spec.name, request.id, caller.user.id, text, Date.now());
    if (!change.ok) throw refusal(change.reason, 'edit');
    const { message } = change;
    await this.publish(channel.spec, { type: 'edit', id: message.id, text: message.text, editedAt: message.editedAt ?? Date.now() });
    return {};
  }

  /**
   * Deletes one of the caller's messages, or, for a room's owner, moderators
   * and admins, anyone's; deleting it again changes nothing.
   */
  async delete(caller: Caller, request: ChatRpcRequest<'chat.delete'>): ChatRpcResult<'chat.delete'> {
    let channel: ChatChannel;
    try {
      channel = await this.channels.open(request.channel, 'publish', caller.principal);
    } catch (refused) {
      // Moderators and admins remove messages where they may not write themselves: muted, or an admin outside a private room.
      const trusted = await this.channels.openTrusted(request.channel).catch(() => undefined);
      if (trusted?.kind !== 'room') throw refused;
      await this.moderation.removeMessage(caller, trusted, request.id).catch(() => {
        throw refused;
      });
      return {};
    }
    const change = await this.store.deleteMessage(channel.spec.name, request.id, caller.user.id);
    if (!change.ok) {
      if (change.reason === 'deleted') return {};
      if (change.reason === 'not-author') {
        await this.moderation.removeMessage(caller, channel, request.id);
        return {};
      }
      throw refusal(change.reason, 'delete');
    }
    await this.publish(channel.spec, { type: 'delete', id: request.id });
    return {};
  }

  /** Toggles the caller's reaction on a message and returns the message's reactions. */
  async react(caller: Caller, request: ChatRpcRequest<'chat.react'>): ChatRpcResult<'chat.react'> {
    const emoji = valid.reactionEmoji(request.emoji);
    const channel = await this.channels.open(request.channel, 'publish', caller.principal);
    const change = await this.store.toggleReaction(channel.spec.name, request.id, caller.user.id, emoji);
    if (!change.ok) throw refusal(change.reason, 'react to');
    const { reactions } = change.message;
    await this.publish(channel.spec, { type: 'reactions', id: request.id, reactions });
    return { reactions };
  }

  /** Tells the conversation the caller is typing: live only, at most once per {@link TYPING_INTERVAL_MS}. */
  async typingNotice(caller: Caller, request: ChatRpcRequest<'chat.typing'>): ChatRpcResult<'chat.typing'> {
    const channel = await this.channels.open(request.channel, 'publish', caller.principal);
    // Extra notices are dropped without an error: clients send them on every keystroke.
    if (!this.typing.take(`${caller.user.id}\n${channel.spec.name}`)) return {};
    await this.publish(channel.spec, { type: 'typing', user: caller.user }, false);
    return {};
  }

  /** A page of messages as they are now, oldest first. */
  async history(caller: Caller, request: ChatRpcRequest<'chat.history'>): ChatRpcResult<'chat.history'> {
    const channel = await this.channels.open(request.channel, 'history', caller.principal);
    const cap = Math.min(HISTORY_MAX, historyLimitFor(channel.spec, caller.principal) ?? HISTORY_MAX);
    if (cap < 1) throw Errors.permissionDenied('You may not read the history of this conversation');
    const limit = valid.pageLimit(request.limit, HISTORY_DEFAULT, cap);
    if (request.before !== undefined && request.before < 1) throw Errors.badRequest('before must be a seq of at least 1');
    const page = await this.store.history(channel.spec.name, {
      limit,
      ...(request.before === undefined ? {} : { before: request.before }),
    });
    return page;
  }

  /** Moves the caller's read position forward and tells their other devices. */
  async markRead(caller: Caller, request: ChatRpcRequest<'chat.markRead'>): ChatRpcResult<'chat.markRead'> {
    if (request.seq < 0) throw Errors.badRequest('seq must be at least 0');
    const channel = await this.channels.open(request.channel, 'history', caller.principal);
    const read = await this.store.markRead(caller.user.id, channel.spec.name, request.seq);
    if (read.moved) await this.userEvents.publish(caller.user.id, { type: 'read', channel: channel.spec.name, seq: read.seq });
    return {};
  }

  /**
   * Messages matching the query in the conversations the caller can read
   * now, newest first: the rooms they are in (a ban or a removal ends the
   * membership) and their DMs, as far as their channel rights allow.
   */
  async search(caller: Caller, request: ChatRpcRequest<'chat.search'>): ChatRpcResult<'chat.search'> {
    const limit = valid.pageLimit(request.limit, SEARCH_DEFAULT, SEARCH_MAX);
    const query = valid.searchQuery(request.query);
    const readable = (channel: string): boolean => {
      const spec = this.channels.specOf(channel);
      return spec !== undefined && this.channels.allows('history', spec, caller.principal);
    };
    const channels = (await this.store.conversationsOf(caller.user.id)).map((c) => c.channel).filter(readable);
    return { messages: await this.store.search(query, { channels, limit }) };
  }

  /**
   * Posts a message as `author` on the server's own authority — for the seed
   * bridges and the server API, not for connections: no permission applies,
   * but the conversation must exist and the text must be valid.
   * @returns the message and the publication that carried it.
   */
  async post(author: ChatUser, channel: string, text: string, nonce?: string): Promise<{ message: ChatMessage; publication: Publication }> {
    const checked = valid.messageText(text);
    const conversation = await this.channels.openTrusted(channel);
    return this.addMessage(conversation.spec, author, checked, nonce);
  }

  /** The newest `limit` messages of a conversation as they are now, oldest first, on the server's authority. */
  async latest(channel: string, limit: number): Promise<ChatMessage[]> {
    const conversation = await this.channels.openTrusted(channel);
    return (await this.store.history(conversation.spec.name, { limit })).messages;
  }

  /**
   * The one way a message enters a conversation, whoever sends it: the
   * author's profile recorded, the message stored, then its `message` event
   * published (its publication returned). A repeated nonce returns the
   * first message and publishes nothing new; one the author used in another
   * conversation is refused (107), never taken for this one.
   *
   * The event is keyed by the message id, so publishing it again is a no-op
   * that returns the first publication. A retry therefore publishes it when
   * the first attempt stored the message but did not live to publish it (a
   * process killed in between): the retry's acknowledgement always means
   * the message is both stored and delivered. Past the stream's idempotency
   * window (`IDEMPOTENCY_WINDOW_MS`) such a late retry publishes nothing:
   * the message is in the conversation's history, and a second event for it
   * could reach clients twice.
   */
  private async addMessage(
    spec: ChannelSpec,
    author: ChatUser,
    text: string,
    nonce?: string,
  ): Promise<{ message: ChatMessage; publication: Publication }> {
    await this.profiles.record(author);
    const { message, created } = await this.store.addMessage({
      channel: spec.name,
      author,
      text,
      createdAt: Date.now(),
      ...(nonce === undefined ? {} : { nonce }),
    });
    // Nonces are the author's, across conversations: a reused one must not pass for a post here.
    if (!created && message.channel !== spec.name) throw Errors.badRequest('nonce was already used for a message in another conversation');
    const event = { data: JSON.stringify({ type: 'message', message }), idempotencyKey: `message:${message.id}` };
    if (!created && Date.now() - message.createdAt >= IDEMPOTENCY_WINDOW_MS) {
      return { message, publication: { data: event.data } };
    }
    return { message, publication: await this.node.publish(spec, event) };
  }

  private async publish(spec: ChannelSpec, event: ChannelEvent, history = true): Promise<Publication> {
    return this.node.publish(spec, { data: JSON.stringify(event) }, history ? {} : { history: false });
  }
}

function refusal(reason: MessageRefusal, action: string): ProtocolError {
  switch (reason) {
    case 'not-found':
      return Errors.badRequest('Message not found');
    case 'not-author':
      return Errors.permissionDenied(`You can only ${action} your own messages`);
    case 'deleted':
      return Errors.badRequest('This message was deleted');
    case 'too-many-reactions':
      return Errors.badRequest('This message has as many different reactions as it can take');
  }
}
