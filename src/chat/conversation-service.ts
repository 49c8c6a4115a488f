import { Errors } from '../protocol/errors.js';
import type { ChatChannels } from './chat-channels.js';
import { dmChannelOf, type ChatStore, type ConversationRecord } from './chat-store.js';
import type { MemberDirectory } from './member-directory.js';
import { decodeMembersCursor, MemberList } from './member-list.js';
import type { ProfileBook } from './profile-book.js';
import type { Caller } from './profile.js';
import {
  DEFAULT_MEMBERS_PAGE,
  DEFAULT_ROOM,
  MAX_MEMBERS_PAGE,
  ROOM_NAME_PATTERN,
  type ChatRpc,
  type Conversation,
  type RoomRole,
} from './protocol.js';
import type { UserEvents } from './user-events.js';
import * as valid from './validation.js';

type Request<M extends keyof ChatRpc> = ChatRpc[M]['request'];
type Result<M extends keyof ChatRpc> = Promise<ChatRpc[M]['result']>;

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

  constructor(options: ConversationServiceOptions) {
    this.isAdmin = options.isAdmin;
    this.store = options.store;
    this.channels = options.channels;
    this.profiles = options.profiles;
    this.userEvents = options.userEvents;
    this.directory = options.directory;
  }

  /** Records the caller's profile, joins them to the default room on their first visit, lists their conversations. */
  async bootstrap(caller: Caller): Result<'chat.bootstrap'> {
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
  async rooms(caller: Caller): Result<'chat.rooms'> {
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
  async createRoom(caller: Caller, request: Request<'chat.createRoom'>): Result<'chat.createRoom'> {
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
    return { conversation: await this.join(caller, name, now, 'owner') };
  }

  /** Joins an existing room (joining again changes nothing): not when banned, and a private one only as an admin. */
  async joinRoom(caller: Caller, request: Request<'chat.joinRoom'>): Result<'chat.joinRoom'> {
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
  async leaveRoom(caller: Caller, request: Request<'chat.leaveRoom'>): Result<'chat.leaveRoom'> {
    const { name } = request;
    const room = ROOM_NAME_PATTERN.test(name) ? await this.store.getRoom(name) : undefined;
    if (!room) throw Errors.unknownChannel(`There is no room "${name}"`);
    if (await this.store.leaveRoom(name, caller.user.id)) {
      await this.userEvents.publish(caller.user.id, { type: 'left', channel: `room:${name}` });
    }
    return {};
  }

  /** Opens (or returns) the DM with another known user; a new one is announced to both. */
  async openDm(caller: Caller, request: Request<'chat.openDm'>): Result<'chat.openDm'> {
    const me = caller.user.id;
    const peer = request.user;
    if (peer === me) throw Errors.badRequest('You cannot open a conversation with yourself');
    const channel = dmChannelOf(me, peer);
    // An id that cannot be part of a channel name (whitespace, a comma) cannot have DMs.
    const spec = this.channels.specOf(channel);
    if (spec?.members?.length !== 2) throw Errors.badRequest('This user cannot receive direct messages');
    if (!this.channels.allows('subscribe', spec, caller.principal)) {
      throw Errors.permissionDenied('You may not open direct conversations with this user');
    }
    await this.profiles.record(caller.user);
    const opened = await this.store.openDm(me, peer, Date.now());
    if (!opened) throw Errors.badRequest(`There is no user "${peer}"`);
    const mine = await this.conversationFor(me, channel);
    if (opened.created) {
      const theirs = await this.conversationFor(peer, channel);
      await this.userEvents.publish(peer, { type: 'conversation', conversation: theirs });
      await this.userEvents.publish(me, { type: 'conversation', conversation: mine });
    }
    return { conversation: mine };
  }

  /**
   * A page of a room's members or a DM's two participants, online ones
   * first, each with whether they are connected to the conversation now.
   * Costs one pass over the room's member list in memory and an O(1)
   * presence lookup per member, whatever the page.
   */
  async members(caller: Caller, request: Request<'chat.members'>): Result<'chat.members'> {
    const channel = await this.channels.open(request.channel, 'history', caller.principal);
    const limit = valid.pageLimit(request.limit, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE);
    const query = valid.memberQuery(request.query);
    const after = request.cursor === undefined || request.cursor === '' ? undefined : decodeMembersCursor(request.cursor);
    const list =
      channel.kind === 'room'
        ? await this.directory.list(channel.room.name)
        : new MemberList((await Promise.all(channel.dm.users.map((id) => this.store.getUser(id)))).filter((u) => u !== undefined));
    const online = await this.channels.presentUsers(channel.spec);
    const standings = channel.kind === 'room' ? await this.store.memberStandings(channel.room.name) : undefined;
    const page = list.page({ query, after, limit }, online, standings);
    return { ...page, live: this.channels.joinLeaveLive(channel.spec) };
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

/** The sidebar entry of a stored conversation: titled by the room name, or by the other user's name. */
export function toConversation(record: ConversationRecord): Conversation {
  const { channel, lastSeq, lastReadSeq, unread, lastMessageAt } = record;
  const identity =
    record.kind === 'room'
      ? {
          channel,
          kind: 'room' as const,
          title: record.room.name,
          topic: record.room.topic,
          private: record.room.visibility === 'private',
          role: record.standing?.role ?? 'member',
          muted: record.standing?.muted ?? false,
        }
      : { channel, kind: 'dm' as const, title: record.peer.name, peer: record.peer };
  return { ...identity, lastSeq, lastReadSeq, unread, ...(lastMessageAt === undefined ? {} : { lastMessageAt }) };
}
