import { isGuestId, type ChatStore } from './chat-store.js';
import { MemberList, type MemberProfile } from './member-list.js';
import type { ChatUser } from './protocol.js';

/** Rooms whose member lists are kept in memory at most; the least recently read is dropped first. */
const MAX_CACHED_ROOMS = 64;

interface CachedList {
  /** The store's members version the list was read at (or after). */
  version: number;
  list: Promise<MemberList>;
}

/**
 * Rooms' member lists in memory, so that a page of `chat.members` costs a
 * pass over an index instead of a database read of every member.
 *
 * Before serving a cached list it asks the store for the room's members
 * version (one small read) and reads the list again when the version moved:
 * a join, a leave or a member's new profile shows up whichever process or
 * node made it, once it is durable (a username recorded for a member counts
 * as a profile change). The version is read before the list, so
 * a list is never older than the version it is kept under; a change landing
 * in between only costs one more read next time.
 *
 * At most {@link MAX_CACHED_ROOMS} lists are kept; a dropped one is read
 * again when next asked for.
 */
export class MemberDirectory {
  private readonly rooms = new Map<string, CachedList>();

  constructor(private readonly store: ChatStore) {}

  /** The room's members, as of a moment after this call. */
  async list(room: string): Promise<MemberList> {
    const version = await this.store.membersVersion(room);
    // A newer list another call stored meanwhile serves as well as one at this version.
    let cached = this.rooms.get(room);
    // Most recently used last, so the first key is the one to drop.
    this.rooms.delete(room);
    if (!cached || cached.version < version) {
      const list = this.store.roomMembers(room).then(async (users) => new MemberList(await memberProfiles(this.store, users)));
      const entry: CachedList = { version, list };
      list.catch(() => this.rooms.get(room) === entry && this.rooms.delete(room));
      cached = entry;
      if (this.rooms.size >= MAX_CACHED_ROOMS) this.rooms.delete(this.rooms.keys().next().value as string);
    }
    this.rooms.set(room, cached);
    return cached.list;
  }
}

/**
 * Members as listed: each profile with their recorded username, and the
 * guest flag for guests without an account. One store read for all.
 */
export async function memberProfiles(store: ChatStore, users: readonly ChatUser[]): Promise<MemberProfile[]> {
  const details = await store.userDetails(users.map((user) => user.id));
  return users.map((user) => {
    const username = details.get(user.id)?.username;
    if (username !== undefined) return { ...user, username };
    return isGuestId(user.id) ? { ...user, guest: true } : { ...user };
  });
}
