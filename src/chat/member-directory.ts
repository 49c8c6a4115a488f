import type { ChatStore } from './chat-store.js';
import { MemberList } from './member-list.js';
import type { ChatUser } from './protocol.js';

/** Rooms whose member lists are kept in memory at most; the least recently read is dropped first. */
const MAX_CACHED_ROOMS = 64;

/**
 * Rooms' member lists in memory, so that a page of `chat.members` costs a
 * pass over an index instead of a database read of every member.
 *
 * A room's list is read from the store when it is first asked for and kept
 * up to date from then on by the chat's own changes: {@link joined},
 * {@link left} and {@link profileChanged}, each called after the change is
 * durable. Changes are applied in the order they are called, after the
 * initial read, and each is idempotent, so a change whose write the read
 * already saw does no harm. This holds because the chat store has a single
 * writer: this process (see `SqliteChatStore`).
 *
 * At most {@link MAX_CACHED_ROOMS} lists are kept; a dropped one is read
 * again when next asked for.
 */
export class MemberDirectory {
  private readonly rooms = new Map<string, Promise<MemberList>>();

  constructor(private readonly store: ChatStore) {}

  /** The room's members. */
  list(room: string): Promise<MemberList> {
    let list = this.rooms.get(room);
    if (list) {
      // Most recently used last, so the first key is the one to drop.
      this.rooms.delete(room);
    } else {
      list = this.store.roomMembers(room).then((users) => new MemberList(users));
      list.catch(() => this.rooms.get(room) === list && this.rooms.delete(room));
      if (this.rooms.size >= MAX_CACHED_ROOMS) this.rooms.delete(this.rooms.keys().next().value as string);
    }
    this.rooms.set(room, list);
    return list;
  }

  /** A user joined a room (durably). */
  joined(room: string, user: ChatUser): void {
    this.change(room, (list) => list.add(user));
  }

  /** A user left a room (durably). */
  left(room: string, userId: string): void {
    this.change(room, (list) => list.remove(userId));
  }

  /** A user's profile changed (durably): their entry moves to their new name in every list. */
  profileChanged(user: ChatUser): void {
    for (const room of this.rooms.keys()) {
      this.change(room, (list) => {
        if (list.has(user.id)) list.add(user);
      });
    }
  }

  private change(room: string, apply: (list: MemberList) => void): void {
    const list = this.rooms.get(room);
    if (!list) return;
    // Chained on the load, so changes apply after it and in call order.
    const next = list.then((loaded) => {
      apply(loaded);
      return loaded;
    });
    next.catch(() => this.rooms.get(room) === next && this.rooms.delete(room));
    this.rooms.set(room, next);
  }
}
