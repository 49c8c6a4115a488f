/**
 * What the user does to messages: sending (through the outbox), editing,
 * deleting, reacting, and typing notices.
 */
import { rememberEmoji } from '../../lib/emoji';
import { errorMessage } from '../../lib/errors';
import { rpc } from '../useRealtime';
import { applyChannelEvent } from './events';
import { enqueue } from './outbox';
import { channelState, findMessage, prepareText, state } from './state';

/** Least time between two `chat.typing` calls for one conversation. */
const TYPING_SEND_INTERVAL_MS = 2000;

const lastTypingSent = new Map<string, number>();
const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

export type SendResult = { ok: true } | { ok: false; error: string };

/**
 * Sends a message: it shows as pending at once and goes out through the
 * outbox (in order, retried with one nonce until the server confirms it).
 */
export function send(channel: string, rawText: string): void {
  if (enqueue(channel, rawText)) stopTyping(channel);
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
