/**
 * Room moderation and administration from the app: adding people to
 * private rooms, moderating members, the ban list, removed-by-moderator
 * notices, and the audit log for admins. The server decides who may do
 * what; these calls only ask, and show its refusals.
 */
import type { AuditEntryView, Member, ModerationAction, RoomBanView, RoomRole } from '../../protocol';
import { rpc } from '../useRealtime';
import { removeConversation } from './conversations';
import { scheduleMembersRefresh } from './members';
import { state } from './state';

export async function addMembers(channel: string, users: string[]): Promise<string[]> {
  const { added } = await rpc('chat.addMembers', { channel, users });
  scheduleMembersRefresh(channel, 0);
  return added;
}

export async function moderate(channel: string, action: ModerationAction, user: string, role?: 'moderator' | 'member'): Promise<void> {
  await rpc('chat.moderate', role ? { channel, action, user, role } : { channel, action, user });
  scheduleMembersRefresh(channel, 0);
}

export async function listBans(channel: string): Promise<RoomBanView[]> {
  return (await rpc('chat.bans', { channel })).bans;
}

export async function auditPage(before?: number): Promise<{ entries: AuditEntryView[]; hasMore: boolean }> {
  return rpc('admin.audit', before === undefined ? { limit: 50 } : { before, limit: 50 });
}

/** What the caller may do to a member of the open room, as the server's rules allow. */
export interface MemberPowers {
  remove: boolean;
  mute: boolean;
  ban: boolean;
  /** Grant or take back `moderator`. */
  appoint: boolean;
}

const NONE: MemberPowers = { remove: false, mute: false, ban: false, appoint: false };

/**
 * The moderation actions the caller may take on `member` in the room
 * `channel`: owners, moderators and admins moderate; only owners and admins
 * appoint moderators; a moderator acts on plain members only; only an
 * admin acts on an owner; nobody on themselves.
 */
export function powersOver(channel: string, member: Member): MemberPowers {
  const conversation = state.conversations[channel];
  if (!conversation || conversation.kind !== 'room' || member.id === state.me?.id) return NONE;
  const mine: RoomRole | 'admin' | undefined = state.admin ? 'admin' : conversation.role;
  if (mine !== 'admin' && mine !== 'owner' && mine !== 'moderator') return NONE;
  if (member.role === 'owner' && mine !== 'admin') return NONE;
  if (member.role === 'moderator' && mine === 'moderator') return NONE;
  return { remove: true, mute: true, ban: true, appoint: mine !== 'moderator' };
}

/** Whether the caller may delete others' messages in a conversation. */
export function canModerate(channel: string): boolean {
  const conversation = state.conversations[channel];
  if (!conversation || conversation.kind !== 'room') return false;
  return state.admin || conversation.role === 'owner' || conversation.role === 'moderator';
}

/** A moderator removed or banned the user: the room goes, with a notice saying why. */
export function onRemoved(channel: string, reason: 'removed' | 'banned'): void {
  const title = state.conversations[channel]?.title ?? channel.replace(/^room:/, '');
  if (state.conversations[channel]) removeConversation(channel);
  state.notice =
    reason === 'banned' ? `You were banned from #${title}. You can no longer read or post there.` : `A moderator removed you from #${title}.`;
}

/** The user's role or mute in a room changed. */
export function onStanding(channel: string, role: RoomRole, muted: boolean): void {
  const conversation = state.conversations[channel];
  if (!conversation) return;
  const wasMuted = conversation.muted;
  conversation.role = role;
  conversation.muted = muted;
  if (muted && !wasMuted) state.notice = `A moderator muted you in #${conversation.title}: you can read but not post.`;
  if (!muted && wasMuted) state.notice = `You can post in #${conversation.title} again.`;
}
