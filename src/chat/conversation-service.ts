import { Errors } from '../protocol/errors.js';
import type { ChatChannels } from './chat-channels.js';
import { ACCOUNT_FACT_TTL_MS, type AccountFacts } from './account-facts.js';
import { dmChannelFor, type ChatStore, type ConversationRecord } from './chat-store.js';
import { memberProfiles, type MemberDirectory } from './member-directory.js';
import { decodeMembersCursor, MemberList } from './member-list.js';
import type { ProfileBook } from './profile-book.js';
import type { Caller } from './profile.js';
import {
  DEFAULT_MEMBERS_PAGE,
  DEFAULT_ROOM,
  MAX_DM_USERS,
  MAX_MEMBERS_PAGE,
  ROOM_NAME_PATTERN,
  type ChatRpcRequest,
  type ChatRpcResult,
  type ChatUser,
  type Conversation,
  type RoomRole,
} from './protocol.js';
import type { UserEvents } from './user-events.js';
import * as valid from './validation.js';


/** What {@link ConversationService} works with. */
export interface ConversationServiceOptions {
  store: ChatStore;
  channels: ChatChannels;
  profiles: ProfileBook;
  userEvents: UserEvents;
  /** Rooms' member lists, re-read when the store says they changed. */
  directory: MemberDirectory;
  /** Whether a user is a server admin now (admins see and may join private rooms). */
  isAdmin: (userId: string) => Promise<boolean>;
  /** Who has an account and whether it is deactivated. */
  facts: AccountFacts;
  /** Ends a user's subscriptions to a channel on every node (someone who may no longer read a private room). */
  evict: (user: string, channel: string) => Promise<void>;
}

/**
 * The conversation side of the chat: the sidebar (bootstrap), the room
 * directory, creating, joining and leaving rooms, opening DMs, and member
 * lists. Changes that concern a user's other devices (a room joined or left,
 * a DM opened) are announced on their `user:<id>` channel after they are
 * durable; a DM opened with someone is announced to them the same way.
 */
export class ConversationService {
  private readonly store: ChatStore;
  private readonly channels: ChatChannels;
  private readonly profiles: ProfileBook;
  private readonly userEvents: UserEvents;
  private readonly directory: MemberDirectory;
  private readonly isAdmin: (userId: string) => Promise<boolean>;
  private readonly facts: AccountFacts;
  private readonly evict: (user: string, channel: string) => Promise<void>;

  constructor(options: ConversationServiceOptions) {
    this.evict = options.evict;
    this.isAdmin = options.isAdmin;
    this.store = options.store;
    this.channels = options.channels;
    this.profiles = options.profiles;
    this.userEvents = options.userEvents;
    this.directory = options.directory;
    this.facts = options.facts;
  }

  /** Records the caller's profile, joins them to the default room on their first visit, lists their conversations. */
  async bootstrap(caller: Caller): ChatRpcResult<'chat.bootstrap'> {
    const { user } = caller;
    await this.profiles.record(user);
    if (await this.store.claimFirstVisit(user.id)) {
      const general = this.channels.roomSpec(DEFAULT_ROOM);
      if ((await this.store.getRoom(DEFAULT_ROOM)) && this.channels.allows('subscribe', general, caller.principal)) {
        await this.store.joinRoom(DEFAULT_ROOM, user.id, Date.now());
      }
    }
    const conversations = (await this.store.conversationsOf(user.id)).map(toConversation);
    return { user, conversations, admin: await this.isAdmin(user.id) };
  }

  /**
   * Every room the caller may enter, with members, connections online, and
   * whether they joined: public rooms and the private rooms they are in
   * (admins: every private room, marked, so they can join it).
   */
  async rooms(caller: Caller): ChatRpcResult<'chat.rooms'> {
    const rooms = [];
    const includePrivate = await this.isAdmin(caller.user.id);
    for (const room of await this.store.listRooms(caller.user.id, { includePrivate })) {
      const spec = this.channels.roomSpec(room.name);
      if (!this.channels.allows('subscribe', spec, caller.principal)) continue;
      const { name, topic, createdBy, createdAt, members, joined } = room;
      const online = await this.channels.onlineCount(spec);
      const standing = room.standing ? { role: room.standing.role, muted: room.standing.muted } : {};
      rooms.push({ name, channel: spec.name, topic, createdBy, createdAt, members, online, joined, private: room.visibility === 'private', ...standing });
    }
    return { rooms };
  }

  /** Creates a room, public or private; the creator joins it as its owner. */
  async createRoom(caller: Caller, request: ChatRpcRequest<'chat.createRoom'>): ChatRpcResult<'chat.createRoom'> {
    const name = valid.roomName(request.name);
    const topic = valid.roomTopic(request.topic);
    const spec = this.channels.roomSpec(name);
    if (!this.channels.allows('subscribe', spec, caller.principal)) throw Errors.permissionDenied('You may not create this room');
    await this.profiles.record(caller.user);
    const now = Date.now();
    const visibility = request.private === true ? 'private' : 'public';
    if (!(await this.store.createRoom({ name, topic, createdBy: caller.user.id, createdAt: now, visibility }))) {
      throw Errors.badRequest(`A room named "${name}" already exists`);
    }
    const conversation = await this.join(caller, name, now, 'owner');
    if (visibility === 'private') {
      // The channel existed before the room did: whoever subscribed to the name beforehand must not follow a private room.
      const outsiders = (await this.channels.subscribedUsers(spec)).filter((user) => user !== caller.user.id);
      await Promise.all(outsiders.map((user) => this.evict(user, spec.name)));
    }
    return { conversation };
  }

  /** Joins an existing room (joining again changes nothing): not when banned, and a private one only as an admin. */
  async joinRoom(caller: Caller, request: ChatRpcRequest<'chat.joinRoom'>): ChatRpcResult<'chat.joinRoom'> {
    const { name } = request;
    const room = ROOM_NAME_PATTERN.test(name) ? await this.store.getRoom(name) : undefined;
    if (!room) throw Errors.unknownChannel(`There is no room "${name}"`);
    if (!this.channels.allows('subscribe', this.channels.roomSpec(name), caller.principal)) {
      throw Errors.permissionDenied('You do not have access to this room');
    }
    const access = await this.store.roomAccess(name, caller.user.id);
    if (access?.banned) throw Errors.permissionDenied('You are banned from this room');
    if (access?.visibility === 'private' && !access.member && !(await this.isAdmin(caller.user.id))) {
      throw Errors.permissionDenied('This room is private: a member has to add you');
    }
    await this.profiles.record(caller.user);
    return { conversation: await this.join(caller, name, Date.now()) };
  }

  /** Leaves a room (leaving one not joined changes nothing). */
  async leaveRoom(caller: Caller, request: ChatRpcRequest<'chat.leaveRoom'>): ChatRpcResult<'chat.leaveRoom'> {
    const { name } = request;
    const room = ROOM_NAME_PATTERN.test(name) ? await this.store.getRoom(name) : undefined;
    if (!room) throw Errors.unknownChannel(`There is no room "${name}"`);
    if (await this.store.leaveRoom(name, caller.user.id)) {
      // Outside a private room nobody may read it, the one who just left included.
      if (room.visibility === 'private') await this.evict(caller.user.id, `room:${name}`);
      await this.userEvents.publish(caller.user.id, { type: 'left', channel: `room:${name}` });
    }
    return {};
  }

  /** Opens (or returns) the DM with another known user; a new one is announced to both. */
  async openDm(caller: Caller, request: ChatRpcRequest<'chat.openDm'>): ChatRpcResult<'chat.openDm'> {
    if (request.user === caller.user.id) throw Errors.badRequest('You cannot open a conversation with yourself');
    return { conversation: await this.openConversation(caller, [request.user]) };
  }

  /** Opens (or returns) the group DM of the caller and 2 to 7 others; a new one is announced to everyone in it. */
  async openGroup(caller: Caller, request: ChatRpcRequest<'chat.openGroup'>): ChatRpcResult<'chat.openGroup'> {
    const others = [...new Set(request.users)].filter((id) => id !== caller.user.id);
    if (others.length < 2 || others.length > MAX_DM_USERS - 1) {
      throw Errors.badRequest(`A group conversation has 2 to ${MAX_DM_USERS - 1} other people`);
    }
    return { conversation: await this.openConversation(caller, others) };
  }

  /**
   * The DM of the caller and `others` (ids other than the caller's): the
   * existing one, or a new one when every other person exists and is
   * active, announced to each participant's `user:` channel once durable.
   */
  private async openConversation(caller: Caller, others: readonly string[]): Promise<Conversation> {
    const me = caller.user.id;
    const channel = dmChannelFor([me, ...others]);
    // An id that cannot be part of a channel name (whitespace, a comma) cannot have DMs.
    const spec = this.channels.specOf(channel);
    if (spec?.members?.length !== others.length + 1) {
      throw Errors.badRequest(others.length === 1 ? 'This user cannot receive direct messages' : 'These people cannot be in one conversation');
    }
    if (!this.channels.allows('subscribe', spec, caller.principal)) {
      throw Errors.permissionDenied('You may not open direct conversations with these people');
    }
    await this.profiles.record(caller.user);
    // Membership is fixed, so an existing conversation stays open to its people whatever became of them since.
    if (!(await this.store.getDm(channel))) await this.checkNewcomers(others);
    const opened = await this.store.openGroup([me, ...others], Date.now());
    if (!opened) throw Errors.badRequest(others.length === 1 ? `There is no user "${others[0]}"` : 'Some of these people do not exist');
    const mine = await this.conversationFor(me, channel);
    if (opened.created) {
      for (const id of others) await this.userEvents.publish(id, { type: 'conversation', conversation: await this.conversationFor(id, channel) });
      await this.userEvents.publish(me, { type: 'conversation', conversation: mine });
    }
    return mine;
  }

  /** @throws ProtocolError 107 naming the first of `userIds` who has no profile or whose account is deactivated. */
  private async checkNewcomers(userIds: readonly string[]): Promise<void> {
    for (const id of userIds) {
      const [user, fact] = await Promise.all([this.store.getUser(id), this.facts.fresh(id)]);
      if (!user) throw Errors.badRequest(`There is no user "${id}"`);
      if (fact.deactivated) throw Errors.badRequest(`${user.name} is deactivated and cannot join new conversations`);
    }
  }

  /**
   * A page of a room's members or a DM's participants: online ones first,
   * then offline ones, then deactivated ones, each with whether they are
   * connected to the conversation now. Costs one pass over the room's
   * member list in memory, an O(1) presence lookup per member, and account
   * reads for members whose account facts are not cached.
   */
  async members(caller: Caller, request: ChatRpcRequest<'chat.members'>): ChatRpcResult<'chat.members'> {
    const channel = await this.channels.open(request.channel, 'history', caller.principal);
    const limit = valid.pageLimit(request.limit, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE);
    const query = valid.memberQuery(request.query);
    const after = request.cursor === undefined || request.cursor === '' ? undefined : decodeMembersCursor(request.cursor);
    const list = channel.kind === 'room' ? await this.directory.list(channel.room.name) : await this.dmMembers(channel.dm.users);
    const online = await this.channels.presentUsers(channel.spec);
    const standings = channel.kind === 'room' ? await this.store.memberStandings(channel.room.name) : undefined;
    const deactivated = await this.deactivatedAmong(list.accountHolders());
    const page = list.page({ query, after, limit }, online, standings, deactivated);
    return { ...page, live: this.channels.joinLeaveLive(channel.spec) };
  }

  private async dmMembers(userIds: readonly string[]): Promise<MemberList> {
    const users = (await Promise.all(userIds.map((id) => this.store.getUser(id)))).filter((u) => u !== undefined);
    return new MemberList(await memberProfiles(this.store, users));
  }

  /** Which of the users have deactivated accounts, from facts at most {@link ACCOUNT_FACT_TTL_MS} old. */
  private async deactivatedAmong(userIds: Iterable<string>): Promise<Set<string>> {
    const deactivated = new Set<string>();
    for (const [id, fact] of await this.facts.of(userIds)) if (fact.deactivated) deactivated.add(id);
    return deactivated;
  }

  private async join(caller: Caller, name: string, now: number, role: RoomRole = 'member'): Promise<Conversation> {
    const joined = await this.store.joinRoom(name, caller.user.id, now, role);
    // A ban that landed since the access check: the store added nothing.
    if (!joined && (await this.store.roomAccess(name, caller.user.id))?.banned) throw Errors.permissionDenied('You are banned from this room');
    const conversation = await this.conversationFor(caller.user.id, `room:${name}`);
    if (joined) await this.userEvents.publish(caller.user.id, { type: 'conversation', conversation });
    return conversation;
  }

  private async conversationFor(userId: string, channel: string): Promise<Conversation> {
    const record = await this.store.conversationOf(userId, channel);
    if (!record) throw new Error(`conversation ${channel} of ${userId} vanished`);
    return toConversation(record);
  }
}

/** The sidebar entry of a stored conversation: titled by the room name, or by the other participants' names. */
export function toConversation(record: ConversationRecord): Conversation {
  const { channel, lastSeq, lastReadSeq, unread, lastMessageAt } = record;
  const identity: Pick<Conversation, 'channel' | 'kind' | 'title' | 'topic' | 'private' | 'role' | 'muted' | 'peer' | 'peers'> =
    record.kind === 'room'
      ? {
          channel,
          kind: 'room',
          title: record.room.name,
          topic: record.room.topic,
          private: record.room.visibility === 'private',
          role: record.standing?.role ?? 'member',
          muted: record.standing?.muted ?? false,
        }
      : { channel, kind: 'dm', title: titleOf(record.peers), peers: record.peers };
  if (record.kind === 'dm' && record.peers.length === 1) identity.peer = record.peers[0]!;
  return { ...identity, lastSeq, lastReadSeq, unread, ...(lastMessageAt === undefined ? {} : { lastMessageAt }) };
}

/** A DM's title: the other people's names, alphabetically (by locale, then as written), `, `-separated. */
function titleOf(peers: readonly ChatUser[]): string {
  return peers
    .map((peer) => peer.name)
    .sort((a, b) => a.localeCompare(b, 'en') || (a < b ? -1 : a > b ? 1 : 0))
    .join(', ');
}
