/**
 * Member directories: a conversation's members as the members panel and the
 * header show them, read page by page from `chat.members`.
 *
 * Guarantees:
 * - nothing is read that nobody looks at: the first page when a conversation
 *   opens (for the counts), further pages as the panel scrolls to them, so
 *   memory follows how far someone scrolled, never the room's size;
 * - a search starts a fresh set of pages; answers that arrive for an older
 *   search (or for pages that were reset since) are dropped, never mixed in;
 * - {@link refreshMembers} re-reads only the pages the panel shows (and the
 *   first, for the counts), each from the cursor it was first read with, so a
 *   refresh costs a few requests in a room of any size;
 * - refreshes requested in quick succession are coalesced into one.
 */
import { markRaw, reactive } from 'vue';
import { errorMessage } from '../../lib/errors';
import type { Member, MembersPage } from '../../protocol';
import { rpc } from '../useRealtime';
import { notePresence } from './presence';
import { rememberUser } from './state';

/** Members asked for per page. */
export const MEMBERS_PAGE_SIZE = 50;
/** How often the open panel re-reads the pages it shows (the contract asks for every 15–30 s without join/leave events). */
export const MEMBERS_REREAD_MS = 20_000;

interface MemberPage {
  /** The cursor this page was read from (none for the first page). */
  from?: string;
  /** Not reactive: a page is replaced as a whole, never changed in place. */
  members: readonly Member[];
  /** The cursor of the page after this one, when there is one. */
  next?: string;
}

export interface MemberDirectory {
  channel: string;
  /** The search the pages answer ('' lists everyone). */
  query: string;
  pages: MemberPage[];
  /** Online users among those matching {@link query}. */
  online: number;
  /** Members matching {@link query} whose accounts are deactivated (listed last, never online). */
  deactivated: number;
  /** Members matching {@link query}. */
  total: number;
  /** The whole conversation's counts (from the latest unfiltered read), for the header; null until read. */
  all: { online: number; total: number } | null;
  /** The first page of the current search has been read. */
  loaded: boolean;
  loadingMore: boolean;
  error: string;
  /** Member rows the panel shows now (indexes into {@link listedMembers}); set by the panel. */
  window: { start: number; end: number };
}

/** Per channel; created when a conversation opens. */
export const directories = reactive<Record<string, MemberDirectory>>({});

/** Bumped on every reset of a channel's pages, so answers to older requests are recognised. */
const generations = new Map<string, number>();
const refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
const refreshing = new Map<string, Promise<void>>();
const refreshAgain = new Set<string>();

function directoryOf(channel: string): MemberDirectory {
  let dir = directories[channel];
  if (!dir) {
    directories[channel] = {
      channel,
      query: '',
      pages: [],
      online: 0,
      deactivated: 0,
      total: 0,
      all: null,
      loaded: false,
      loadingMore: false,
      error: '',
      window: { start: 0, end: 0 },
    };
    dir = directories[channel]!;
  }
  return dir;
}

/** Every member read so far for the current search, in the server's order, each once. */
export function listedMembers(dir: MemberDirectory): Member[] {
  const seen = new Set<string>();
  const list: Member[] = [];
  for (const page of dir.pages) {
    for (const member of page.members) {
      if (seen.has(member.id)) continue;
      seen.add(member.id);
      list.push(member);
    }
  }
  return list;
}

async function readPage(channel: string, query: string, from: string | undefined): Promise<MembersPage> {
  const request = { channel, limit: MEMBERS_PAGE_SIZE, ...(query ? { query } : {}), ...(from ? { cursor: from } : {}) };
  const page = await rpc('chat.members', request);
  for (const member of page.members) rememberUser(member);
  notePresence(channel, page.members);
  return page;
}

function applyCounts(dir: MemberDirectory, query: string, page: MembersPage): void {
  dir.online = page.online;
  dir.deactivated = page.deactivated ?? 0;
  dir.total = page.total;
  if (!query) dir.all = { online: page.online, total: page.total };
}

function toPage(from: string | undefined, result: MembersPage): MemberPage {
  return { from, members: markRaw([...result.members]), next: result.cursor };
}

/** Starts the channel's pages over for `query` and reads the first one. */
export async function searchMembers(channel: string, query: string): Promise<void> {
  const dir = directoryOf(channel);
  const generation = (generations.get(channel) ?? 0) + 1;
  generations.set(channel, generation);
  dir.query = query;
  dir.pages = [];
  dir.loaded = false;
  dir.loadingMore = false;
  dir.error = '';
  try {
    const result = await readPage(channel, query, undefined);
    if (generations.get(channel) !== generation) return;
    dir.pages = [toPage(undefined, result)];
    applyCounts(dir, query, result);
    dir.loaded = true;
  } catch (error) {
    if (generations.get(channel) === generation) dir.error = errorMessage(error, 'Could not load the members.');
  }
}

/** Reads the first page when the channel has none yet; otherwise refreshes what is shown. */
export async function loadMembers(channel: string): Promise<void> {
  const dir = directories[channel];
  if (dir?.loaded) return refreshMembers(channel);
  return searchMembers(channel, dir?.query ?? '');
}

/** Reads the page after the last one read, if there is one (one request at a time). */
export async function loadMoreMembers(channel: string): Promise<void> {
  const dir = directories[channel];
  const from = dir?.pages[dir.pages.length - 1]?.next;
  if (!dir || !from || dir.loadingMore) return;
  const generation = generations.get(channel);
  dir.loadingMore = true;
  try {
    const result = await readPage(channel, dir.query, from);
    if (generations.get(channel) !== generation) return;
    // A refresh may have moved the end meanwhile: append only to the page this one follows.
    if (dir.pages[dir.pages.length - 1]?.next === from) dir.pages.push(toPage(from, result));
    applyCounts(dir, dir.query, result);
  } catch {
    // Scrolling to the end again asks again.
  } finally {
    if (generations.get(channel) === generation) dir.loadingMore = false;
  }
}

/** Indexes of the pages holding the member rows from `start` to `end`, and always the first page. */
function pagesShowing(dir: MemberDirectory): number[] {
  const wanted = [0];
  let first = 0;
  dir.pages.forEach((page, index) => {
    const last = first + page.members.length;
    if (index > 0 && last > dir.window.start && first < dir.window.end) wanted.push(index);
    first = last;
  });
  return wanted;
}

/**
 * Re-reads the pages the panel shows (and the first, for the counts). One
 * refresh per channel runs at a time; asked again meanwhile, it runs once
 * more after, so an older answer never overwrites a newer one.
 */
export async function refreshMembers(channel: string): Promise<void> {
  const running = refreshing.get(channel);
  if (running) {
    refreshAgain.add(channel);
    return running;
  }
  const run = (async () => {
    do {
      refreshAgain.delete(channel);
      await rereadShownPages(channel);
    } while (refreshAgain.has(channel) && directories[channel]);
  })().finally(() => refreshing.delete(channel));
  refreshing.set(channel, run);
  return run;
}

async function rereadShownPages(channel: string): Promise<void> {
  const dir = directories[channel];
  if (!dir) return;
  if (!dir.loaded) return searchMembers(channel, dir.query);
  const generation = generations.get(channel);
  const query = dir.query;
  await Promise.all(
    pagesShowing(dir).map(async (index) => {
      const from = dir.pages[index]?.from;
      try {
        const result = await readPage(channel, query, from);
        if (generations.get(channel) !== generation || dir.pages[index]?.from !== from) return;
        dir.pages[index] = toPage(from, result);
        // The last page may have grown a next one, or a page may now be the last.
        if (!result.cursor) dir.pages.splice(index + 1);
        applyCounts(dir, query, result);
      } catch {
        // Keep what is shown; the next refresh tries again.
      }
    }),
  );
}

/** Refreshes the channel's members after `delay` ms; later calls before then replace earlier ones. */
export function scheduleMembersRefresh(channel: string, delay: number): void {
  if (!directories[channel]) return;
  clearTimeout(refreshTimers.get(channel));
  refreshTimers.set(
    channel,
    setTimeout(() => {
      refreshTimers.delete(channel);
      void refreshMembers(channel);
    }, delay),
  );
}

/**
 * Schedules a refresh when the channel's whole member list is read (a small
 * room, no search) and one of `userIds` is not in it: someone joined without
 * being online, and the list should name them.
 */
export function refreshIfUnlisted(channel: string, userIds: readonly string[]): void {
  const dir = directories[channel];
  if (!dir?.loaded || dir.query || dir.pages[dir.pages.length - 1]?.next) return;
  const listed = new Set(listedMembers(dir).map((member) => member.id));
  if (userIds.some((id) => !listed.has(id))) scheduleMembersRefresh(channel, 300);
}

/** The header's counts: the whole conversation's members and how many are online, or null before the first read. */
export function memberCounts(channel: string): { online: number; total: number } | null {
  return directories[channel]?.all ?? null;
}

/** Drops a channel's directory (the conversation was left). */
export function forgetMembers(channel: string): void {
  clearTimeout(refreshTimers.get(channel));
  refreshTimers.delete(channel);
  generations.set(channel, (generations.get(channel) ?? 0) + 1);
  delete directories[channel];
}

/** Drops every directory and pending refresh (signing out). */
export function clearMembers(): void {
  for (const channel of Object.keys(directories)) forgetMembers(channel);
}
