/**
 * Loading messages: the latest page when a conversation opens, older pages
 * on scroll, and a fresh start when the server could not recover what was missed.
 */
import { errorMessage } from '../../lib/errors';
import { getSubscription, rpc } from '../useRealtime';
import { maybeMarkRead } from './conversations';
import { applyChannelEvent } from './events';
import { PAGE_SIZE, channelState, mergeMessages, state } from './state';

/** Fetches the latest page and merges it with what is loaded (dropping what would leave a gap). */
export async function loadLatest(channel: string, mode: 'open' | 'resync' = 'open'): Promise<void> {
  const cs = channelState(channel);
  if (cs.loading) return;
  cs.loading = true;
  cs.error = '';
  try {
    // Subscribe first, so nothing published between the page and the subscription is missed.
    await getSubscription(channel)?.ready(5000).catch(() => undefined);
    const page = await rpc('chat.history', { channel, limit: PAGE_SIZE });
    const newest = page.messages[page.messages.length - 1]?.seq ?? 0;
    const oldest = page.messages[0]?.seq ?? Infinity;
    // Keep loaded messages only where they join up with the page; after a failed
    // recovery only those newer than the page (older ones may have missed edits).
    const keep = state.channels[channel]?.messages.filter((m) => (mode === 'resync' ? m.seq > newest : m.seq >= oldest || !page.hasMore)) ?? [];
    const current = state.channels[channel];
    if (!current) return;
    current.messages = mergeMessages(keep, page.messages);
    current.hasMore = page.hasMore;
    current.loaded = true;
    const conversation = state.conversations[channel];
    if (conversation && newest > conversation.lastSeq) conversation.lastSeq = newest;
    if (channel === state.active) maybeMarkRead();
  } catch (error) {
    cs.error = errorMessage(error, 'Could not load messages.');
  } finally {
    cs.loading = false;
  }
}

/** Applies the latest page of a conversation that was subscribed just now, as if it had arrived live. */
export async function catchUp(channel: string): Promise<void> {
  try {
    await getSubscription(channel)?.ready(5000).catch(() => undefined);
    const page = await rpc('chat.history', { channel, limit: PAGE_SIZE });
    if (!state.conversations[channel]) return;
    for (const message of page.messages) applyChannelEvent(channel, { type: 'message', message });
    const cs = channelState(channel);
    if (!cs.loaded && !cs.loading) {
      cs.hasMore = page.hasMore;
      cs.loaded = true;
    }
  } catch {
    // The conversation loads normally when opened.
  }
}

export async function resync(channel: string): Promise<void> {
  const cs = state.channels[channel];
  if (!cs?.loaded) return;
  cs.loading = false;
  await loadLatest(channel, 'resync');
}

/** Loads the page before the oldest loaded message; resolves to the number of messages added. */
export async function loadOlder(channel: string): Promise<number> {
  const cs = state.channels[channel];
  const before = cs?.messages[0]?.seq;
  if (!cs || !cs.loaded || !cs.hasMore || cs.loadingOlder || before === undefined) return 0;
  cs.loadingOlder = true;
  try {
    const page = await rpc('chat.history', { channel, before, limit: PAGE_SIZE });
    const count = cs.messages.length;
    cs.messages = mergeMessages(page.messages, cs.messages);
    cs.hasMore = page.hasMore;
    return cs.messages.length - count;
  } catch (error) {
    cs.error = errorMessage(error, 'Could not load older messages.');
    return 0;
  } finally {
    cs.loadingOlder = false;
  }
}
