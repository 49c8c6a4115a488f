import type { ChannelOperation } from '../auth/permissions.js';
import { isAllowed, type Principal } from '../channel/access.js';
import type { ChannelSpec } from '../channel/channel.js';
import type { Node } from '../node/node.js';
import { NOBODY, type UserLookup } from '../presence/presence.js';
import { Errors } from '../protocol/errors.js';
import type { ChatStore, DmRecord, RoomAccess, RoomRecord } from './chat-store.js';
import { ROOM_NAME_PATTERN } from './protocol.js';

/** A conversation channel that exists and that the caller may use as asked (`access`: the caller's, when opened for a caller). */
export type ChatChannel =
  | { kind: 'room'; spec: ChannelSpec; room: RoomRecord; access?: RoomAccess }
  | { kind: 'dm'; spec: ChannelSpec; dm: DmRecord };

/**
 * The one place that decides whether a chat operation may touch a channel:
 * only `room:` and `dm:` channels, only with the caller's channel rights
 * (their token's permission claim, or else the namespace rules), only
 * conversations that exist (rooms created, DMs opened), and in rooms only
 * by users who are not banned, who are members when the room is private,
 * and who are not muted when they write ({@link checkRoom}, also the
 * node's gate for every protocol command on `room:` channels).
 */
export class ChatChannels {
  constructor(
    private readonly node: Node,
    private readonly store: ChatStore,
  ) {}

  /**
   * The channel named `name`, checked for `operation` by `principal`.
   * @throws ProtocolError 107 for a malformed name or one outside `room:`
   *   and `dm:`; 103 when the caller may not; 102 when the room or DM does
   *   not exist.
   */
  async open(name: string, operation: ChannelOperation, principal: Principal): Promise<ChatChannel> {
    const spec = this.chatSpec(name);
    if (!isAllowed(operation, spec, principal)) throw Errors.permissionDenied(deniedMessage(spec));
    const channel = await this.existing(spec);
    if (channel.kind !== 'room') return channel;
    const access = await this.store.roomAccess(channel.room.name, principal.user);
    refuseRoomAccess(access, operation);
    return { ...channel, ...(access ? { access } : {}) };
  }

  /**
   * The gate of `room:` channels (see `node/channel-gates.ts`): one store
   * read, then 103 for a banned user, for a non-member of a private room,
   * and for a muted member's publish. Channels of rooms that do not exist
   * pass: the namespace rules alone decide those.
   */
  async checkRoom(user: string, spec: ChannelSpec, operation: ChannelOperation): Promise<void> {
    const roomName = spec.name.slice('room:'.length);
    if (spec.namespace !== 'room' || !ROOM_NAME_PATTERN.test(roomName)) return;
    refuseRoomAccess(await this.store.roomAccess(roomName, user), operation);
  }

  /**
   * A conversation on the server's own authority (seed bridges, the server
   * API): it must exist, but no permission applies.
   */
  async openTrusted(name: string): Promise<ChatChannel> {
    return this.existing(this.chatSpec(name));
  }

  /** Whether a channel is a conversation that exists (a `room:` channel of a created room, a `dm:` channel of an opened DM). */
  async isConversation(spec: ChannelSpec): Promise<boolean> {
    return (spec.namespace === 'room' || spec.namespace === 'dm') && (await this.find(spec)) !== undefined;
  }

  private chatSpec(name: string): ChannelSpec {
    const spec = this.node.channels.resolve(name);
    if (spec.namespace !== 'room' && spec.namespace !== 'dm') {
      throw Errors.badRequest('Chat works in room: and dm: channels only');
    }
    return spec;
  }

  private async existing(spec: ChannelSpec): Promise<ChatChannel> {
    const found = await this.find(spec);
    if (found) return found;
    if (spec.namespace === 'room') throw Errors.unknownChannel(`There is no room "${spec.name.slice('room:'.length)}"`);
    throw Errors.unknownChannel('This conversation does not exist; open it first');
  }

  /** The room or DM of a `room:` or `dm:` channel, when it exists. */
  private async find(spec: ChannelSpec): Promise<ChatChannel | undefined> {
    if (spec.namespace === 'room') {
      const room = await this.roomOf(spec);
      return room && { kind: 'room', spec, room };
    }
    const dm = await this.store.getDm(spec.name);
    return dm && { kind: 'dm', spec, dm };
  }

  private async roomOf(spec: ChannelSpec): Promise<RoomRecord | undefined> {
    const roomName = spec.name.slice('room:'.length);
    return ROOM_NAME_PATTERN.test(roomName) ? this.store.getRoom(roomName) : undefined;
  }

  /** The channel spec of a room name (which must match `ROOM_NAME_PATTERN`). */
  roomSpec(name: string): ChannelSpec {
    return this.node.channels.resolve(`room:${name}`);
  }

  /** The spec of a channel name, or undefined when the name is not a valid channel. */
  specOf(name: string): ChannelSpec | undefined {
    try {
      return this.node.channels.resolve(name);
    } catch {
      return undefined;
    }
  }

  /** Whether the principal may perform an operation on a channel. */
  allows(operation: ChannelOperation, spec: ChannelSpec, principal: Principal): boolean {
    return isAllowed(operation, spec, principal);
  }

  /** Which users are connected to a channel now, as an O(1) lookup (nobody when it keeps no presence). */
  async presentUsers(spec: ChannelSpec): Promise<UserLookup> {
    if (!spec.options.presence) return NOBODY;
    return this.node.presentUsers(spec);
  }

  /** Whether join and leave events are pushed in a channel now (see `joinLeaveMaxClients`). */
  joinLeaveLive(spec: ChannelSpec): boolean {
    return this.node.joinLeaveLive(spec);
  }

  /** The users with a connection subscribed to a channel now, on any node (none when it keeps no presence). */
  async subscribedUsers(spec: ChannelSpec): Promise<string[]> {
    if (!spec.options.presence) return [];
    const users = new Set<string>();
    for (const info of (await this.node.presenceOf(spec)).values()) users.add(info.user);
    return [...users];
  }

  /** How many connections are subscribed to a channel now (0 when it keeps no presence). */
  async onlineCount(spec: ChannelSpec): Promise<number> {
    if (!spec.options.presence) return 0;
    return (await this.node.presenceStats(spec)).numClients;
  }
}

/** Throws the 103 a room's access calls for, if any. */
function refuseRoomAccess(access: RoomAccess | undefined, operation: ChannelOperation): void {
  if (!access) return;
  if (access.banned) throw Errors.permissionDenied('You are banned from this room');
  if (access.visibility === 'private' && !access.member) throw Errors.permissionDenied('This room is private: a member has to add you');
  if (operation === 'publish' && access.member?.muted) throw Errors.permissionDenied('You are muted in this room');
}

function deniedMessage(spec: ChannelSpec): string {
  return spec.namespace === 'dm' ? 'This conversation is between other users' : 'You do not have access to this room';
}
