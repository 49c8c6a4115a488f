/**
 * Loading messages: the latest page when a conversation opens, older pages
 * on scroll, the latest page again (with a marked gap) when the server could
 * not recover what was missed, and the messages of such a gap on request.
 */
import { errorMessage } from '../../lib/errors';
import { getSubscription, rpc } from '../useRealtime';
import { maybeMarkRead } from './conversations';
import { applyChannelEvent } from './events';
import { type ChannelState, PAGE_SIZE, channelState, mergeMessages, state } from './state';

/** The largest page the server hands out: used when many pages are needed at once (jumping far back). */
export const LARGEST_PAGE = 100;

/**
 * Fetches the latest page and merges it with what is loaded. On open,
 * loaded messages that would not join up with the page are dropped. On
 * `resync` (the server could not recover what was missed) they are kept, and
 * if the page does not reach them, a gap is marked before the page.
 */
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
    const current = state.channels[channel];
    if (!current) return;
    const loaded = current.messages;
    const keep = mode === 'resync' ? loaded : loaded.filter((m) => m.seq >= oldest || !page.hasMore);
    const newestKept = keep.filter((m) => m.seq < oldest).reduce((max, m) => Math.max(max, m.seq), 0);
    // Seqs count up by one per message: a page starting further up leaves messages out.
    if (mode === 'resync' && newestKept > 0 && oldest !== Infinity && oldest > newestKept + 1) addGap(current, oldest);
    current.messages = mergeMessages(keep, page.messages);
    // Kept messages older than the page: the list's older end, and whether more lies beyond it, are unchanged.
    if (newestKept === 0 || !page.hasMore) current.hasMore = page.hasMore;
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

function addGap(cs: ChannelState, beforeSeq: number): void {
  if (!cs.gaps.includes(beforeSeq)) cs.gaps = [...cs.gaps, beforeSeq].sort((a, b) => a - b);
}

/**
 * Loads the page of missing messages just before the gap marked before
 * `beforeSeq`. The gap closes when the page reaches the loaded messages
 * below it; otherwise it moves up to the page's first message.
 */
export async function loadGap(channel: string, beforeSeq: number): Promise<void> {
  const cs = state.channels[channel];
  if (!cs || !cs.gaps.includes(beforeSeq)) return;
  const below = cs.messages.filter((m) => m.seq < beforeSeq).reduce((max, m) => Math.max(max, m.seq), 0);
  try {
    const page = await rpc('chat.history', { channel, before: beforeSeq, limit: LARGEST_PAGE });
    const live = state.channels[channel];
    if (!live || !live.gaps.includes(beforeSeq)) return;
    const first = page.messages[0]?.seq;
    live.gaps = live.gaps.filter((seq) => seq !== beforeSeq);
    if (first !== undefined && first > below + 1 && page.hasMore) addGap(live, first);
    live.messages = mergeMessages(live.messages, page.messages);
  } catch (error) {
    cs.error = errorMessage(error, 'Could not load the missing messages.');
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

const olderInFlight = new Map<string, Promise<number>>();

/**
 * Loads the page before the oldest loaded message; resolves to the number of
 * messages added. A call while one is in flight shares its result.
 */
export function loadOlder(channel: string, limit = PAGE_SIZE): Promise<number> {
  const running = olderInFlight.get(channel);
  if (running) return running;
  const cs = state.channels[channel];
  const before = cs?.messages[0]?.seq;
  if (!cs || !cs.loaded || !cs.hasMore || before === undefined) return Promise.resolve(0);
  const load = (async () => {
    cs.loadingOlder = true;
    try {
      const page = await rpc('chat.history', { channel, before, limit });
      const count = cs.messages.length;
      cs.messages = mergeMessages(page.messages, cs.messages);
      cs.hasMore = page.hasMore;
      return cs.messages.length - count;
    } catch (error) {
      cs.error = errorMessage(error, 'Could not load older messages.');
      return 0;
    } finally {
      cs.loadingOlder = false;
      olderInFlight.delete(channel);
    }
  })();
  olderInFlight.set(channel, load);
  return load;
}

/**
 * Loads whatever is missing between the loaded messages and the message with
 * `seq` (older pages, or the gap it falls in), in the largest pages, however
 * far back it is. Resolves to whether it is loaded now.
 */
export async function loadUntil(channel: string, seq: number): Promise<boolean> {
  for (;;) {
    const cs = state.channels[channel];
    if (!cs?.loaded) return false;
    if (cs.messages.some((m) => m.seq === seq)) return true;
    const gap = cs.gaps.find((before) => before > seq && !cs.messages.some((m) => m.seq < before && m.seq > seq));
    if (gap !== undefined && (cs.messages[0]?.seq ?? Infinity) < seq) {
      const count = cs.messages.length;
      await loadGap(channel, gap);
      if (state.channels[channel]?.messages.length === count) return false;
    } else if (!(await loadOlder(channel, LARGEST_PAGE))) {
      return !!state.channels[channel]?.messages.some((m) => m.seq === seq);
    }
  }
}
