/**
 * What the user does to messages: sending (with a pending copy and safe
 * retries), editing, deleting, reacting, and typing notices.
 */
import { rememberEmoji } from '../../lib/emoji';
import { errorMessage, nonce } from '../../lib/errors';
import { rpc, whenConnected } from '../useRealtime';
import { maybeMarkRead } from './conversations';
import { applyChannelEvent } from './events';
import { type ChannelState, type PendingMessage, channelState, findMessage, insertMessage, prepareText, state } from './state';

/** Least time between two `chat.typing` calls for one conversation. */
const TYPING_SEND_INTERVAL_MS = 2000;

const lastTypingSent = new Map<string, number>();
const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

export type SendResult = { ok: true } | { ok: false; error: string };

/**
 * Sends a message. It shows as pending at once; a send that fails because
 * the connection dropped is retried with the same nonce, so it is never posted twice.
 */
export async function send(channel: string, rawText: string): Promise<SendResult> {
  const text = prepareText(rawText);
  if (!text) return { ok: true };
  const cs = channelState(channel);
  const pending: PendingMessage = { nonce: nonce(), text, createdAt: Date.now() };
  cs.pending.push(pending);
  stopTyping(channel);
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const { message } = await rpc('chat.send', { channel, text, nonce: pending.nonce });
        const conversation = state.conversations[channel];
        insertMessage(channelState(channel), message);
        if (conversation && message.seq > conversation.lastSeq) {
          conversation.lastSeq = message.seq;
          conversation.lastMessageAt = message.createdAt;
        }
        if (channel === state.active) maybeMarkRead();
        return { ok: true };
      } catch (error) {
        const transport = !!error && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'number' && (error as { code: number }).code < 100;
        if (!transport || attempt >= 2) throw error;
        await whenConnected(20_000);
      }
    }
  } catch (error) {
    return { ok: false, error: errorMessage(error, 'Your message could not be sent.') };
  } finally {
    const live = state.channels[channel];
    if (live) live.pending = live.pending.filter((p) => p.nonce !== pending.nonce);
  }
}

/** The echo of my own message arrived before the send reply: the pending copy can go. */
export function dropPendingEcho(cs: ChannelState, text: string): void {
  const index = cs.pending.findIndex((p) => p.text === text);
  if (index >= 0) cs.pending.splice(index, 1);
}

export async function edit(channel: string, id: string, rawText: string): Promise<SendResult> {
  const cs = channelState(channel);
  const message = findMessage(cs, id);
  const text = prepareText(rawText);
  if (!message || !text) return { ok: false, error: 'A message cannot be empty — delete it instead.' };
  if (text === message.text) {
    cs.editingId = null;
    return { ok: true };
  }
  try {
    await rpc('chat.edit', { channel, id, text });
    message.text = text;
    message.editedAt = message.editedAt && message.editedAt > Date.now() ? message.editedAt : Date.now();
    cs.editingId = null;
    return { ok: true };
  } catch (error) {
    return { ok: false, error: errorMessage(error, 'Could not save your edit.') };
  }
}

export async function remove(channel: string, id: string): Promise<SendResult> {
  try {
    await rpc('chat.delete', { channel, id });
    applyChannelEvent(channel, { type: 'delete', id });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: errorMessage(error, 'Could not delete the message.') };
  }
}

export async function react(channel: string, id: string, emoji: string): Promise<SendResult> {
  try {
    rememberEmoji(emoji);
    const { reactions } = await rpc('chat.react', { channel, id, emoji });
    applyChannelEvent(channel, { type: 'reactions', id, reactions });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: errorMessage(error, 'Could not add the reaction.') };
  }
}

/**
 * Tells the others I am typing, at most every two seconds. A keystroke inside
 * the quiet interval schedules one notice at its end (if still typing then),
 * so a short burst right after a notice is not lost.
 */
export function typing(channel: string, stillTyping: () => boolean = () => true): void {
  const wait = TYPING_SEND_INTERVAL_MS - (Date.now() - (lastTypingSent.get(channel) ?? 0));
  if (wait <= 0) {
    lastTypingSent.set(channel, Date.now());
    rpc('chat.typing', { channel }).catch(() => undefined);
    return;
  }
  if (typingTimers.has(channel)) return;
  typingTimers.set(
    channel,
    setTimeout(() => {
      typingTimers.delete(channel);
      if (stillTyping() && state.conversations[channel]) typing(channel, stillTyping);
    }, wait + 20),
  );
}

function stopTyping(channel: string): void {
  clearTimeout(typingTimers.get(channel));
  typingTimers.delete(channel);
}


export function clearTyping(): void {
  lastTypingSent.clear();
  for (const timer of typingTimers.values()) clearTimeout(timer);
  typingTimers.clear();
}
