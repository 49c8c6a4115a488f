/**
 * One conversation's members, kept sorted by name, and the pages of
 * `chat.members` cut from them: online members first, then offline ones,
 * then deactivated ones, each group by name, filtered by a word-prefix query.
 */
import { Errors } from '../protocol/errors.js';
import type { ChatUser, Member } from './protocol.js';
import type { RoomStanding } from './chat-store.js';

/** Whether a user is online (or deactivated); answered in O(1) (a presence lookup, a set). */
export interface OnlineLookup {
  has(userId: string): boolean;
}

/** A member as listed: their profile, their account's username, and whether they are a guest without one. */
export interface MemberProfile extends ChatUser {
  username?: string;
  guest?: true;
}

/** The groups of a members page, in page order. */
const enum Group {
  Online = 0,
  Offline = 1,
  Deactivated = 2,
}

const NOBODY_DEACTIVATED: OnlineLookup = { has: () => false };

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
  deactivated: number;
  total: number;
  cursor?: string;
}

/** Where a page ended: the group it was in (0 online, 1 offline, 2 deactivated) and the sort key of its last member. */
export interface MembersCursor {
  group: 0 | 1 | 2;
  key: string;
}

interface Entry {
  user: MemberProfile;
  /** Lower-cased name, a NUL, the id: sorts by name, ties by id, and is unique. */
  key: string;
  /** Lower-cased name and id from each word start on: a query matches when one starts with it. */
  words: string[];
}

// Words start after anything that is neither a letter nor a digit ("Ann-Marie", "g_ab12").
const WORD_START = /(?<![\p{L}\p{N}])[\p{L}\p{N}]/gu;

function entryOf(user: MemberProfile): Entry {
  const name = user.name.toLowerCase();
  const id = user.id.toLowerCase();
  const words: string[] = [];
  for (const text of [name, id, user.username?.toLowerCase() ?? '']) {
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

  constructor(users: Iterable<MemberProfile> = []) {
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

  /** Ids of the members with an account (a recorded username): the only ones who can be deactivated. */
  *accountHolders(): IterableIterator<string> {
    for (const entry of this.sorted) if (entry.user.username !== undefined) yield entry.user.id;
  }

  /** Adds a member, or replaces their profile when they are one. */
  add(user: MemberProfile): void {
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
   * One page: online members first, then offline ones, then deactivated
   * ones (whether connected or not), each by name, with the counts over
   * every match (`online` counts the first group, `deactivated` the last).
   * One pass over the members. Members not in `standings` are plain
   * members, not muted.
   */
  page(
    request: PageRequest,
    online: OnlineLookup,
    standings: ReadonlyMap<string, RoomStanding> = NO_STANDINGS,
    deactivated: OnlineLookup = NOBODY_DEACTIVATED,
  ): CutPage {
    const { query, after, limit } = request;
    let total = 0;
    let onlineCount = 0;
    let deactivatedCount = 0;
    // Up to limit + 1 of each group past the cursor: the extra one tells whether a next page exists.
    const groups: [Entry[], Entry[], Entry[]] = [[], [], []];
    for (const entry of this.sorted) {
      if (!matches(entry, query)) continue;
      total++;
      const group = deactivated.has(entry.user.id) ? Group.Deactivated : online.has(entry.user.id) ? Group.Online : Group.Offline;
      if (group === Group.Online) onlineCount++;
      else if (group === Group.Deactivated) deactivatedCount++;
      const members = groups[group];
      if (members.length > limit || !pastCursor(after, group, entry.key)) continue;
      members.push(entry);
    }
    const ordered = groups.flatMap((entries, group) => entries.map((entry) => [entry, group as Group] as const));
    const members = ordered.slice(0, limit).map(([entry, group]) => memberOf(entry.user, group, standings.get(entry.user.id)));
    const page: CutPage = { members, online: onlineCount, deactivated: deactivatedCount, total };
    const last = ordered[limit - 1];
    if (ordered.length > limit && last) page.cursor = encodeMembersCursor({ group: last[1], key: last[0].key });
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

/** The member a client sees: flags only when they hold (`guest`, `deactivated`), and never online when deactivated. */
function memberOf(user: MemberProfile, group: Group, standing: RoomStanding | undefined): Member {
  const member: Member = { ...user, online: group === Group.Online, role: standing?.role ?? 'member', muted: standing?.muted ?? false };
  if (group === Group.Deactivated) member.deactivated = true;
  return member;
}

/** Whether a member of the given group and sort key comes after the cursor in page order. */
function pastCursor(after: MembersCursor | undefined, group: Group, key: string): boolean {
  if (!after) return true;
  if (after.group !== group) return group > after.group;
  return key > after.key;
}

// A cursor's group code: 1 online and 0 offline, as cursors were written before deactivated members were listed last.
const GROUP_CODES = [1, 0, 2] as const;

/** The opaque cursor text of a position. */
export function encodeMembersCursor(cursor: MembersCursor): string {
  return Buffer.from(JSON.stringify([GROUP_CODES[cursor.group], cursor.key]), 'utf8').toString('base64url');
}

/** @throws ProtocolError 107 for text that no page ever returned as a cursor. */
export function decodeMembersCursor(text: string): MembersCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    const group = Array.isArray(value) && value.length === 2 ? GROUP_CODES.indexOf(value[0] as 0 | 1 | 2) : -1;
    if (group !== -1 && typeof (value as unknown[])[1] === 'string') return { group: group as 0 | 1 | 2, key: (value as string[])[1]! };
  } catch {
    // Falls through to the error below.
  }
  throw Errors.badRequest('cursor is not one a members page returned');
}
