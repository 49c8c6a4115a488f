/**
 * The outbox: messages the user wrote, sent to the server in the order they
 * were written, one at a time per conversation, and kept until the server
 * confirms them.
 *
 * Guarantees:
 * - **Nothing typed is lost.** A message stays in its conversation's
 *   `pending` list (shown in the message list, and saved in this browser by
 *   `device-storage.ts`) until `chat.send` answers with the stored message,
 *   however long the connection is down, across reconnects and reloads.
 * - **Never posted twice.** Every attempt for one message carries the same
 *   `nonce`; the server answers a repeated nonce with the first message and
 *   publishes nothing.
 * - **In order.** Within a conversation the next message is sent only after
 *   the one before it was confirmed or refused for good.
 * - A message the server refuses for good (not a connection problem, not a
 *   temporary error) is marked `failed` with the reason and left for the user
 *   to {@link retryPending retry} or {@link takeBackPending edit}; the messages after it are
 *   still sent.
 */
import { errorMessage, nonce } from '../../lib/errors';
import { rpc, whenConnected } from '../useRealtime';
import { maybeMarkRead } from './conversations';
import { type PendingMessage, channelState, insertMessage, prepareText, state } from './state';

/** Wait before retrying a temporary error while connected; doubles up to {@link RETRY_MAX_MS}. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15_000;

/** Conversations whose queue is being worked through now. */
const draining = new Set<string>();
/** Bumped when the chat stops, so loops of the previous session end. */
let generation = 0;

/** Errors worth retrying: the SDK's own (transport, timeout: code < 100) and those the server marks temporary. */
function isRetryable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return true;
  const { code, temporary } = error as { code?: unknown; temporary?: unknown };
  return typeof code !== 'number' || code < 100 || temporary === true;
}

/** Queues a message for sending; returns false when there is nothing to send (blank text). */
export function enqueue(channel: string, rawText: string): boolean {
  const text = prepareText(rawText);
  if (!text) return false;
  channelState(channel).pending.push({ nonce: nonce(), text, createdAt: Date.now(), status: 'waiting' });
  void drain(channel);
  return true;
}

/** Sends a failed message again, with its first nonce (so it cannot end up posted twice). */
export function retryPending(channel: string, id: string): void {
  const item = state.channels[channel]?.pending.find((p) => p.nonce === id);
  if (!item || item.status !== 'failed') return;
  item.status = 'waiting';
  delete item.error;
  void drain(channel);
}

/** Removes a failed message from the outbox and returns its text (for the composer). */
export function takeBackPending(channel: string, id: string): string {
  const cs = state.channels[channel];
  const item = cs?.pending.find((p) => p.nonce === id);
  if (!cs || !item || item.status !== 'failed') return '';
  cs.pending = cs.pending.filter((p) => p !== item);
  return item.text;
}

/** Starts sending every conversation's queued messages (after a connect, or a reload restored some). */
export function drainAll(): void {
  for (const channel of Object.keys(state.channels)) void drain(channel);
}

/** The chat stopped (sign-out): loops of this session end without touching the next one's state. */
export function stopOutbox(): void {
  generation += 1;
  draining.clear();
}

/** My own message arrived live before the reply to its send: hide the pending copy until the reply. */
export function markEchoed(channel: string, text: string): void {
  const item = state.channels[channel]?.pending.find((p) => p.status === 'sending' && !p.echoed && p.text === text);
  if (item) item.echoed = true;
}

async function drain(channel: string): Promise<void> {
  if (draining.has(channel)) return;
  draining.add(channel);
  const session = generation;
  let delay = RETRY_FIRST_MS;
  try {
    for (;;) {
      if (session !== generation) return;
      const item = state.channels[channel]?.pending.find((p) => p.status !== 'failed');
      if (!item) return;
      await whenConnected();
      if (session !== generation || !stillQueued(channel, item)) continue;
      item.status = 'sending';
      const outcome = await attempt(channel, item);
      if (session !== generation) return;
      if (outcome === 'retry') {
        item.status = 'waiting';
        item.echoed = false;
        // Connection problems wait for the connection (above); temporary refusals back off.
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      } else {
        delay = RETRY_FIRST_MS;
      }
    }
  } finally {
    if (session === generation) draining.delete(channel);
  }
}

function stillQueued(channel: string, item: PendingMessage): boolean {
  return !!state.channels[channel]?.pending.includes(item);
}

/** One `chat.send`; the item leaves the outbox when confirmed, or is marked failed. */
async function attempt(channel: string, item: PendingMessage): Promise<'sent' | 'failed' | 'retry'> {
  try {
    const { message } = await rpc('chat.send', { channel, text: item.text, nonce: item.nonce });
    const cs = channelState(channel);
    insertMessage(cs, message);
    cs.pending = cs.pending.filter((p) => p.nonce !== item.nonce);
    const conversation = state.conversations[channel];
    if (conversation && message.seq > conversation.lastSeq) {
      conversation.lastSeq = message.seq;
      conversation.lastMessageAt = message.createdAt;
    }
    if (channel === state.active) maybeMarkRead();
    return 'sent';
  } catch (error) {
    if (isRetryable(error)) return 'retry';
    item.status = 'failed';
    item.echoed = false;
    item.error = errorMessage(error, 'The server did not accept this message.');
    return 'failed';
  }
}
