/**
 * Applies the realtime events of conversation channels and of the user's own
 * channel to the state. Every event is applied idempotently (messages are
 * deduplicated by id; edits, deletions and reactions overwrite), so one that
 * arrives both live and in a history page, or twice after a reconnect,
 * changes nothing the second time.
 */
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import type { ChannelEvent, UserEvent } from '../../protocol';
import { useNotifications } from '../useNotifications';
import { subscribe } from '../useRealtime';
import { maybeMarkRead, openConversation, removeConversation, upsertConversation } from './conversations';
import { catchUp, resync } from './history';
import { markEchoed } from './outbox';
import { refreshIfUnlisted, scheduleMembersRefresh } from './members';
import { onRemoved, onStanding } from './moderation';
import { checkPresence, onPresenceJoin, onPresenceLeave } from './presence';
import { channelState, findMessage, insertMessage, isMe, rememberUser, state } from './state';

/** How long "X is typing…" stays without a new typing event. */
const TYPING_VISIBLE_MS = 4000;

const notifications = useNotifications();

export function applyChannelEvent(channel: string, event: ChannelEvent): void {
  const cs = channelState(channel);
  const conversation = state.conversations[channel];
  switch (event.type) {
    case 'message': {
      const message = event.message;
      insertMessage(cs, message);
      if (isMe(message.author.id)) markEchoed(channel, message.text);
      delete cs.typing[message.author.id];
      // A member the list does not know yet (joined without being online): refresh it.
      refreshIfUnlisted(channel, [message.author.id]);
      if (conversation && message.seq > conversation.lastSeq) {
        conversation.lastSeq = message.seq;
        conversation.lastMessageAt = message.createdAt;
        if (!isMe(message.author.id) && message.seq > conversation.lastReadSeq && !message.deleted) {
          conversation.unread += 1;
          notifications.notifyMessage(conversation, message, openConversation);
        }
      }
      if (channel === state.active) maybeMarkRead();
      break;
    }
    case 'edit': {
      const message = findMessage(cs, event.id);
      if (message) {
        message.text = event.text;
        message.editedAt = event.editedAt;
      }
      break;
    }
    case 'delete': {
      const message = findMessage(cs, event.id);
      if (message && !message.deleted) {
        if (conversation && !isMe(message.author.id) && message.seq > conversation.lastReadSeq && conversation.unread > 0) {
          conversation.unread -= 1;
        }
        message.deleted = true;
        message.text = '';
        message.reactions = {};
        if (event.byModerator) message.removedByModerator = true;
        if (cs.editingId === message.id) cs.editingId = null;
      }
      break;
    }
    case 'reactions': {
      const message = findMessage(cs, event.id);
      if (message) message.reactions = { ...event.reactions };
      // Names for the tooltip: someone reacted whom this client has not seen yet.
      refreshIfUnlisted(channel, Object.values(event.reactions).flat().filter((id) => !state.users[id]));
      break;
    }
    case 'member': {
      // Someone was added, removed, banned, muted or given a role: the list shows it at the next read.
      rememberUser(event.user);
      scheduleMembersRefresh(channel, 0);
      break;
    }
    case 'typing': {
      if (isMe(event.user.id)) break;
      rememberUser(event.user);
      const until = Date.now() + TYPING_VISIBLE_MS;
      cs.typing[event.user.id] = { user: event.user, until };
      setTimeout(() => {
        if (cs.typing[event.user.id]?.until === until) delete cs.typing[event.user.id];
      }, TYPING_VISIBLE_MS + 50);
      break;
    }
  }
}

/**
 * Forgets who is typing everywhere. Called when the connection drops: no
 * typing event can arrive while offline, so any "typing…" shown is stale.
 */
export function forgetTyping(): void {
  for (const cs of Object.values(state.channels)) if (Object.keys(cs.typing).length) cs.typing = {};
}

export function applyUserEvent(event: UserEvent): void {
  switch (event.type) {
    case 'read': {
      const conversation = state.conversations[event.channel];
      if (!conversation || event.seq <= conversation.lastReadSeq) return;
      conversation.lastReadSeq = event.seq;
      if (event.seq >= conversation.lastSeq) {
        conversation.unread = 0;
        return;
      }
      const cs = state.channels[event.channel];
      const oldest = cs?.messages[0]?.seq;
      if (cs?.loaded && oldest !== undefined && oldest <= event.seq + 1) {
        conversation.unread = cs.messages.filter((m) => m.seq > event.seq && !m.deleted && !isMe(m.author.id)).length;
      } else {
        conversation.unread = Math.min(conversation.unread, conversation.lastSeq - event.seq);
      }
      return;
    }
    case 'conversation': {
      const isNew = !state.conversations[event.conversation.channel];
      upsertConversation(event.conversation);
      // Messages may have been posted before the new subscription was active.
      if (isNew) void catchUp(event.conversation.channel);
      return;
    }
    case 'left':
      if (state.conversations[event.channel]) removeConversation(event.channel);
      return;
    case 'removed':
      onRemoved(event.channel, event.reason);
      return;
    case 'standing':
      onStanding(event.channel, event.role, event.muted);
      return;
  }
}

/** Publications are JSON objects with a `type`; anything else is ignored. */
function isEvent<T extends { type: string }>(data: unknown): data is T {
  return !!data && typeof data === 'object' && typeof (data as { type?: unknown }).type === 'string';
}

export function subscribeConversation(channel: string): void {
  subscribe(channel, {
    publication: (ctx: PublicationContext) => {
      // Chat events come from the server and carry no publisher info; anything a
      // client published directly could be forged in someone else's name.
      if (!ctx.info && isEvent<ChannelEvent>(ctx.data)) applyChannelEvent(channel, ctx.data);
    },
    subscribed: (ctx: SubscribedContext) => {
      // The server could not hand over everything missed while away: start again from the latest page.
      if (ctx.wasRecovering && !ctx.recovered) void resync(channel);
      if (ctx.wasRecovering) scheduleMembersRefresh(channel, 0);
      if (channel.startsWith('dm:')) void checkPresence(channel);
    },
    join: (ctx) => onPresenceJoin(channel, ctx.info.user),
    leave: (ctx) => onPresenceLeave(channel, ctx.info.user),
  });
}


/** Subscribes to the user's own channel: read positions from other devices, new and left conversations. */
export function subscribeUser(userId: string): void {
  subscribe(`user:${userId}`, {
    publication: (ctx) => {
      if (!ctx.info && isEvent<UserEvent>(ctx.data)) applyUserEvent(ctx.data);
    },
  });
}
