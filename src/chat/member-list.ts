/**
 * One conversation's members, kept sorted by name, and the pages of
 * `chat.members` cut from them: online members first, then offline ones,
 * each group by name, filtered by a word-prefix query.
 */
import { Errors } from '../protocol/errors.js';
import type { ChatUser, Member } from './protocol.js';
import type { RoomStanding } from './chat-store.js';

/** Whether a user is online; answered in O(1) (a presence lookup). */
export interface OnlineLookup {
  has(userId: string): boolean;
}

/** What a page is cut with. */
export interface PageRequest {
  /** Lower-cased query, already trimmed; "" matches everyone. */
  query: string;
  /** Where the previous page ended, from {@link decodeMembersCursor}. */
  after: MembersCursor | undefined;
  limit: number;
}

/** A page before it is sent: the members and the encoded cursor to the next one. */
export interface CutPage {
  members: Member[];
  online: number;
  total: number;
  cursor?: string;
}

/** Where a page ended: the group it was in and the sort key of its last member. */
export interface MembersCursor {
  online: boolean;
  key: string;
}

interface Entry {
  user: ChatUser;
  /** Lower-cased name, a NUL, the id: sorts by name, ties by id, and is unique. */
  key: string;
  /** Lower-cased name and id from each word start on: a query matches when one starts with it. */
  words: string[];
}

// Words start after anything that is neither a letter nor a digit ("Ann-Marie", "g_ab12").
const WORD_START = /(?<![\p{L}\p{N}])[\p{L}\p{N}]/gu;

function entryOf(user: ChatUser): Entry {
  const name = user.name.toLowerCase();
  const id = user.id.toLowerCase();
  const words: string[] = [];
  for (const text of [name, id]) {
    for (const match of text.matchAll(WORD_START)) words.push(text.slice(match.index));
  }
  return { user, key: `${name}\u0000${user.id}`, words };
}

function matches(entry: Entry, query: string): boolean {
  if (query === '') return true;
  for (const word of entry.words) if (word.startsWith(query)) return true;
  return false;
}

/**
 * Members sorted by name (case-insensitive, then by id). Adding, removing
 * and renaming cost O(log n) to find the place plus one array move; a page
 * costs one pass over the members, with an O(1) online lookup each.
 * Adding a member already present replaces their profile; removing an
 * absent one does nothing.
 */
export class MemberList {
  private readonly sorted: Entry[] = [];
  private readonly byId = new Map<string, Entry>();

  constructor(users: Iterable<ChatUser> = []) {
    for (const user of users) this.byId.set(user.id, entryOf(user));
    this.sorted.push(...this.byId.values());
    this.sorted.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get size(): number {
    return this.sorted.length;
  }

  has(userId: string): boolean {
    return this.byId.has(userId);
  }

  /** Adds a member, or replaces their profile when they are one. */
  add(user: ChatUser): void {
    this.remove(user.id);
    const entry = entryOf(user);
    this.sorted.splice(this.lowerBound(entry.key), 0, entry);
    this.byId.set(user.id, entry);
  }

  remove(userId: string): void {
    const entry = this.byId.get(userId);
    if (!entry) return;
    this.byId.delete(userId);
    this.sorted.splice(this.lowerBound(entry.key), 1);
  }

  /**
   * One page: online members first, then offline ones, each by name, with
   * the counts over every match. One pass over the members. Members not
   * in `standings` are plain members, not muted.
   */
  page(request: PageRequest, online: OnlineLookup, standings: ReadonlyMap<string, RoomStanding> = NO_STANDINGS): CutPage {
    const { query, after, limit } = request;
    let total = 0;
    let onlineCount = 0;
    // Up to limit + 1 of each group past the cursor: the extra one tells whether a next page exists.
    const onlineFirst: Entry[] = [];
    const offlineNext: Entry[] = [];
    for (const entry of this.sorted) {
      if (!matches(entry, query)) continue;
      total++;
      const isOnline = online.has(entry.user.id);
      if (isOnline) onlineCount++;
      const group = isOnline ? onlineFirst : offlineNext;
      if (group.length > limit || !pastCursor(after, isOnline, entry.key)) continue;
      group.push(entry);
    }
    const ordered = [...onlineFirst.map((entry) => [entry, true] as const), ...offlineNext.map((entry) => [entry, false] as const)];
    const members = ordered.slice(0, limit).map(([entry, isOnline]): Member => {
      const standing = standings.get(entry.user.id);
      return { ...entry.user, online: isOnline, role: standing?.role ?? 'member', muted: standing?.muted ?? false };
    });
    const page: CutPage = { members, online: onlineCount, total };
    const last = ordered[limit - 1];
    if (ordered.length > limit && last) page.cursor = encodeMembersCursor({ online: last[1], key: last[0].key });
    return page;
  }

  /** The index of the first entry whose key is at or above `key`. */
  private lowerBound(key: string): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.sorted[mid] as Entry).key < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

const NO_STANDINGS: ReadonlyMap<string, RoomStanding> = new Map();

/** Whether a member of the given group and sort key comes after the cursor in page order. */
function pastCursor(after: MembersCursor | undefined, online: boolean, key: string): boolean {
  if (!after) return true;
  if (after.online !== online) return after.online; // the offline group follows the online one
  return key > after.key;
}

/** The opaque cursor text of a position. */
export function encodeMembersCursor(cursor: MembersCursor): string {
  return Buffer.from(JSON.stringify([cursor.online ? 1 : 0, cursor.key]), 'utf8').toString('base64url');
}

/** @throws ProtocolError 107 for text that no page ever returned as a cursor. */
export function decodeMembersCursor(text: string): MembersCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && (value[0] === 0 || value[0] === 1) && typeof value[1] === 'string') {
      return { online: value[0] === 1, key: value[1] };
    }
  } catch {
    // Falls through to the error below.
  }
  throw Errors.badRequest('cursor is not one a members page returned');
}
