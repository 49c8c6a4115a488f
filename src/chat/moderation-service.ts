import type { AccountStore } from '../accounts/account-store.js';
import type { AuditLog, NewAuditEntry } from '../accounts/audit-log.js';
import type { Logger } from '../log/logger.js';
import type { Node } from '../node/node.js';
import { Errors } from '../protocol/errors.js';
import type { ChatChannel, ChatChannels } from './chat-channels.js';
import type { ChatStore, RoomAccess, RoomRecord } from './chat-store.js';
import { toConversation } from './conversation-service.js';
import type { Caller } from './profile.js';
import { MAX_ADD_MEMBERS, type ChannelEvent, type ChatRpcRequest, type ChatRpcResult, type ChatUser, type MemberChange, type RoomRole } from './protocol.js';
import type { UserEvents } from './user-events.js';


/** What {@link ModerationService} works with. */
export interface ModerationServiceOptions {
  node: Node;
  store: ChatStore;
  channels: ChatChannels;
  userEvents: UserEvents;
  /** Who is a server admin (read at every check, never taken from a token). */
  accounts: Pick<AccountStore, 'getAccount'>;
  /** Where every moderation action is recorded. */
  audit: Pick<AuditLog, 'appendAudit'>;
  /** Ends a user's subscriptions to a channel on every node of the deployment. */
  evict: (userId: string, channel: string) => Promise<void>;
  logger: Logger;
}

/** Who may moderate a room, strongest first: a server admin, the room's owner, one of its moderators. */
type Authority = 'admin' | 'owner' | 'moderator';

/**
 * Room moderation: removing, muting and banning members, appointing
 * moderators, deleting anyone's message, adding people to private rooms.
 *
 * Rules: a room's owners and moderators, and server admins, moderate it;
 * only owners and admins appoint or dismiss moderators; a moderator acts on
 * plain members only, and only an admin acts on an owner. Every refusal is
 * 103 with a message saying why.
 *
 * Each action is durable in the chat store first; then a removed or banned
 * user's subscriptions to the room end on every node, the room's channel
 * gets a `member` event (member lists follow it), the user's own channel
 * gets a `removed` or `standing` event (their app drops the room or turns
 * read-only), and the audit log records who did what to whom.
 */
export class ModerationService {
  constructor(private readonly options: ModerationServiceOptions) {}

  /** Whether the user is a server admin now: an active account with the admin role. */
  async isAdmin(userId: string): Promise<boolean> {
    if (userId === '') return false;
    const account = await this.options.accounts.getAccount(userId);
    return account?.role === 'admin' && account.deactivatedAt === undefined;
  }

  async moderate(caller: Caller, request: ChatRpcRequest<'chat.moderate'>): ChatRpcResult<'chat.moderate'> {
    const { room, channel } = await this.room(request.channel);
    const authority = await this.authorityOf(caller, room.name);
    const target = request.user;
    if (target === caller.user.id) throw Errors.badRequest('You cannot moderate yourself');
    const access = (await this.options.store.roomAccess(room.name, target))!;
    this.checkRank(authority, access, request);
    const user = await this.profileOf(target);
    const name = room.name;
    switch (request.action) {
      case 'remove':
        if (!access.member) throw Errors.badRequest(`${user.name} is not a member of this room`);
        if (!(await this.options.store.leaveRoom(name, target))) return {};
        await this.expel(caller, channel, user, 'removed');
        break;
      case 'ban': {
        const { banned } = await this.options.store.banFromRoom(name, { userId: target, bannedBy: caller.user.id, bannedAt: Date.now() });
        if (!banned) return {};
        await this.expel(caller, channel, user, 'banned');
        break;
      }
      case 'unban':
        if (!(await this.options.store.unbanFromRoom(name, target))) return {};
        await this.announce(channel, 'unbanned', user);
        await this.record(caller, 'member.unban', target, channel.spec.name);
        break;
      case 'mute':
      case 'unmute': {
        if (!access.member) throw Errors.badRequest(`${user.name} is not a member of this room`);
        const muted = request.action === 'mute';
        if (access.member.muted === muted) return {};
        await this.options.store.setStanding(name, target, { muted });
        await this.standingChanged(caller, channel, user, { role: access.member.role, muted }, muted ? 'muted' : 'unmuted');
        break;
      }
      case 'setRole': {
        if (!access.member) throw Errors.badRequest(`${user.name} is not a member of this room`);
        const role = request.role!;
        if (access.member.role === role) return {};
        await this.options.store.setStanding(name, target, { role });
        await this.standingChanged(caller, channel, user, { role, muted: access.member.muted }, 'role');
        break;
      }
    }
    return {};
  }

  /** Adds people to a room: members of the room (of a private one above all) and admins. */
  async addMembers(caller: Caller, request: ChatRpcRequest<'chat.addMembers'>): ChatRpcResult<'chat.addMembers'> {
    const { room, channel } = await this.room(request.channel);
    const { store } = this.options;
    const users = [...new Set(request.users)];
    if (users.length === 0) throw Errors.badRequest('users must name at least one user');
    if (users.length > MAX_ADD_MEMBERS) throw Errors.badRequest(`At most ${MAX_ADD_MEMBERS} people can be added at once`);
    const mine = await store.roomAccess(room.name, caller.user.id);
    const admin = await this.isAdmin(caller.user.id);
    if (!mine?.member && !admin) throw Errors.permissionDenied('Only members of this room can add people to it');
    if (mine?.member?.muted && !admin) throw Errors.permissionDenied('You are muted in this room');
    const profiles: ChatUser[] = [];
    for (const id of users) {
      const profile = await store.getUser(id);
      if (!profile) throw Errors.badRequest(`There is no user "${id}"`);
      if ((await this.options.accounts.getAccount(id))?.deactivatedAt !== undefined) throw Errors.badRequest(`${profile.name}'s account is deactivated`);
      if ((await store.roomAccess(room.name, id))?.banned) throw Errors.permissionDenied(`${profile.name} is banned from this room`);
      profiles.push(profile);
    }
    const added: string[] = [];
    const now = Date.now();
    for (const profile of profiles) {
      if (!(await store.joinRoom(room.name, profile.id, now))) continue;
      added.push(profile.id);
      const record = await store.conversationOf(profile.id, channel.spec.name);
      if (record) await this.options.userEvents.publish(profile.id, { type: 'conversation', conversation: toConversation(record) });
      await this.announce(channel, 'added', profile, 'member');
    }
    return { added };
  }

  /** The room's bans, for its moderators. */
  async bans(caller: Caller, request: ChatRpcRequest<'chat.bans'>): ChatRpcResult<'chat.bans'> {
    const { room } = await this.room(request.channel);
    await this.authorityOf(caller, room.name);
    const bans = await this.options.store.roomBans(room.name);
    const names = new Map<string, ChatUser>();
    const profile = async (id: string): Promise<ChatUser> => {
      let user = names.get(id);
      if (!user) names.set(id, (user = await this.profileOf(id)));
      return user;
    };
    const views = [];
    for (const ban of bans) views.push({ user: ban.user ?? (await profile(ban.userId)), bannedBy: await profile(ban.bannedBy), bannedAt: ban.bannedAt });
    return { bans: views };
  }

  /**
   * Deletes someone else's message on a moderator's authority (the author
   * deleting their own goes through `ChatService.delete`). A deleted
   * message stays deleted: deleting it again changes nothing.
   */
  async removeMessage(caller: Caller, channel: ChatChannel, id: string): Promise<void> {
    if (channel.kind !== 'room') throw Errors.permissionDenied('You can only delete your own messages');
    const authority = await this.authorityOf(caller, channel.room.name, 'You can only delete your own messages');
    const change = await this.options.store.removeMessage(channel.spec.name, id, caller.user.id);
    if (!change.ok) {
      if (change.reason === 'deleted') return;
      throw Errors.badRequest('Message not found');
    }
    await this.publish(channel, { type: 'delete', id, byModerator: true });
    await this.record(caller, 'message.delete', change.message.author.id, channel.spec.name, `as ${authority}`);
  }

  // ---- internals ------------------------------------------------------------------

  /** A room to moderate, whatever the caller's channel rights (their authority is checked next). */
  private async room(name: string): Promise<{ room: RoomRecord; channel: ChatChannel }> {
    const channel = await this.options.channels.openTrusted(name);
    if (channel.kind !== 'room') throw Errors.badRequest('Moderation works in rooms only');
    return { room: channel.room, channel };
  }

  /** The caller's authority in a room. @throws ProtocolError 103 when they have none. */
  private async authorityOf(caller: Caller, room: string, refusal = "Only the room's owner and moderators can do this"): Promise<Authority> {
    const access = await this.options.store.roomAccess(room, caller.user.id);
    const role = access?.banned ? undefined : access?.member?.role;
    if (role === 'owner' || role === 'moderator') return role;
    if (await this.isAdmin(caller.user.id)) return 'admin';
    throw Errors.permissionDenied(refusal);
  }

  /** Refuses an action above the caller's rank. */
  private checkRank(authority: Authority, target: RoomAccess, request: ChatRpcRequest<'chat.moderate'>): void {
    const targetRole = target.member?.role ?? 'member';
    if (targetRole === 'owner' && authority !== 'admin') throw Errors.permissionDenied("Only an admin can moderate the room's owner");
    if (targetRole === 'moderator' && authority === 'moderator') throw Errors.permissionDenied('Only the owner can moderate a moderator');
    if (request.action === 'setRole') {
      if (authority === 'moderator') throw Errors.permissionDenied("Only the room's owner or an admin can appoint moderators");
      if (request.role !== 'moderator' && request.role !== 'member') throw Errors.badRequest('role must be "moderator" or "member"');
    }
  }

  /** After a removal or a ban: the user's subscriptions end everywhere, the room and the user are told, the log records it. */
  private async expel(caller: Caller, channel: ChatChannel, user: ChatUser, reason: 'removed' | 'banned'): Promise<void> {
    const name = channel.spec.name;
    await this.options.evict(user.id, name).catch((err: unknown) => this.options.logger.error({ err, channel: name }, 'chat: evicting a user failed'));
    await this.announce(channel, reason, user);
    await this.options.userEvents.publish(user.id, { type: 'removed', channel: name, reason });
    await this.record(caller, reason === 'banned' ? 'member.ban' : 'member.remove', user.id, name);
  }

  private async standingChanged(
    caller: Caller,
    channel: ChatChannel,
    user: ChatUser,
    standing: { role: RoomRole; muted: boolean },
    change: MemberChange,
  ): Promise<void> {
    const name = channel.spec.name;
    await this.announce(channel, change, user, standing.role);
    await this.options.userEvents.publish(user.id, { type: 'standing', channel: name, ...standing });
    const action = change === 'role' ? 'member.role' : change === 'muted' ? 'member.mute' : 'member.unmute';
    await this.record(caller, action, user.id, name, change === 'role' ? standing.role : undefined);
  }

  private announce(channel: ChatChannel, change: MemberChange, user: ChatUser, role?: RoomRole): Promise<void> {
    return this.publish(channel, { type: 'member', change, user, ...(role ? { role } : {}) });
  }

  private async publish(channel: ChatChannel, event: ChannelEvent): Promise<void> {
    await this.options.node.publish(channel.spec, { data: JSON.stringify(event) });
  }

  /** The profile of a user id, or a stand-in named by the id for one never seen. */
  private async profileOf(id: string): Promise<ChatUser> {
    return (await this.options.store.getUser(id)) ?? { id, name: id, color: '#868e96' };
  }

  /**
   * Records an action in the audit log. The action is durable already, so
   * a failure to record it is logged rather than reported as the action failing.
   */
  private async record(caller: Caller, action: string, target: string, channel: string, detail?: string): Promise<void> {
    const entry: NewAuditEntry = { at: Date.now(), actor: caller.user.id, action, target, channel, ...(detail ? { detail } : {}) };
    await this.options.audit.appendAudit(entry).catch((err: unknown) =>
      this.options.logger.error({ err, action, channel }, 'chat: moderation action not recorded in the audit log'),
    );
  }
}
