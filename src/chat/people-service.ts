import { Errors } from '../protocol/errors.js';
import type { AccountFacts } from './account-facts.js';
import { isGuestId, type ChatStore, type DirectoryKey } from './chat-store.js';
import { queryWords } from './people-search.js';
import type { Caller } from './profile.js';
import { DEFAULT_USERS_PAGE, MAX_USERS_PAGE, type ChatRpc, type DirectoryUser } from './protocol.js';
import * as valid from './validation.js';

/** Store pages read at most for one directory page (when many entries are filtered out). */
const MAX_READS_PER_PAGE = 4;
// Ids that cannot be part of a DM's channel name: such users cannot be messaged, so they are not offered.
const NO_DM_ID = /[\s,]/;

/** What {@link PeopleService} works with. */
export interface PeopleServiceOptions {
  store: ChatStore;
  facts: AccountFacts;
  /** Seconds after which a guest who has not been seen is left out (0: never). */
  guestExpirySeconds: number;
}

/**
 * The people directory behind the "New message" picker and "Add people":
 * everyone the caller can start a conversation with, by name.
 */
export class PeopleService {
  constructor(private readonly options: PeopleServiceOptions) {}

  /**
   * One page of people matching the query, by name: accounts and guests
   * seen within `guestExpiry`, never deactivated accounts nor the caller.
   * Reads at most {@link MAX_READS_PER_PAGE} store pages, so a page may hold
   * fewer than `limit` people and still have a cursor.
   */
  async users(caller: Caller, request: ChatRpc['chat.users']['request']): Promise<ChatRpc['chat.users']['result']> {
    const limit = valid.pageLimit(request.limit, DEFAULT_USERS_PAGE, MAX_USERS_PAGE);
    if (request.query !== undefined && request.query.length > 200) throw Errors.badRequest('query is longer than 200 characters');
    const words = queryWords(request.query ?? '');
    let after = request.cursor === undefined || request.cursor === '' ? undefined : decodeUsersCursor(request.cursor);
    const { guestExpirySeconds } = this.options;
    const guestsSeenSince = guestExpirySeconds > 0 ? Date.now() - guestExpirySeconds * 1000 : 0;
    const users: DirectoryUser[] = [];
    for (let read = 0; read < MAX_READS_PER_PAGE && users.length < limit; read++) {
      const want = limit - users.length;
      const entries = await this.options.store.searchUsers({ words, limit: want, guestsSeenSince, ...(after ? { after } : {}) });
      const facts = await this.options.facts.of(entries.filter((entry) => entry.username !== undefined).map((entry) => entry.user.id));
      for (const entry of entries) {
        const { user } = entry;
        if (user.id === caller.user.id || NO_DM_ID.test(user.id) || facts.get(user.id)?.deactivated) continue;
        const person: DirectoryUser = { ...user };
        if (entry.username !== undefined) person.username = entry.username;
        else if (isGuestId(user.id)) person.guest = true;
        users.push(person);
      }
      after = entries.at(-1)?.key;
      if (entries.length < want) return { users };
    }
    return after ? { users, cursor: encodeUsersCursor(after) } : { users };
  }
}

function encodeUsersCursor(key: DirectoryKey): string {
  return Buffer.from(JSON.stringify([key.name, key.id]), 'utf8').toString('base64url');
}

/** @throws ProtocolError 107 for text that no page returned as a cursor. */
function decodeUsersCursor(text: string): DirectoryKey {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { name: value[0], id: value[1] };
    }
  } catch {
    // Falls through to the error below.
  }
  throw Errors.badRequest('cursor is not one a users page returned');
}
