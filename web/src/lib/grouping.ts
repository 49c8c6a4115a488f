import type { ChatMessage } from '../protocol';
import { dayLabel, isSameDay } from './time';

/** Messages from the same author closer together than this share one header. */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

export type Row =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'unread'; key: string }
  /** Messages before `beforeSeq` are missing here (they could not be recovered after a reconnect). */
  | { kind: 'gap'; key: string; beforeSeq: number }
  | { kind: 'message'; key: string; message: ChatMessage; compact: boolean };

/**
 * Same author, shown the same way: after a change of name, colour or
 * picture the next message gets a header again, so the change is visible.
 */
function sameFace(a: ChatMessage, b: ChatMessage): boolean {
  return a.author.id === b.author.id && a.author.name === b.author.name && a.author.color === b.author.color && a.author.avatar === b.author.avatar;
}

/**
 * Turns a conversation's messages (oldest first) into list rows: a gap
 * marker before each message in `gaps` (missing messages precede it), a
 * divider for each day, a "new" divider before the first unread message from
 * someone else, and each message marked compact when it continues its
 * author's group (same author and profile, within {@link GROUP_WINDOW_MS}).
 */
export function buildRows(
  messages: readonly ChatMessage[],
  options: { unreadAfterSeq?: number | null; me?: string; now?: number; gaps?: readonly number[] } = {},
): Row[] {
  const rows: Row[] = [];
  const now = options.now ?? Date.now();
  const gaps = new Set(options.gaps ?? []);
  let previous: ChatMessage | undefined;
  let unreadPlaced = options.unreadAfterSeq == null;
  for (const message of messages) {
    const afterGap = previous !== undefined && gaps.has(message.seq);
    if (afterGap) rows.push({ kind: 'gap', key: `gap-${message.seq}`, beforeSeq: message.seq });
    const newDay = !previous || !isSameDay(previous.createdAt, message.createdAt);
    if (newDay) rows.push({ kind: 'day', key: `day-${message.id}`, label: dayLabel(message.createdAt, now) });
    let startsUnread = false;
    if (!unreadPlaced && message.seq > (options.unreadAfterSeq ?? 0) && message.author.id !== options.me) {
      rows.push({ kind: 'unread', key: 'unread' });
      unreadPlaced = true;
      startsUnread = true;
    }
    const compact =
      !newDay &&
      !afterGap &&
      !startsUnread &&
      previous !== undefined &&
      sameFace(previous, message) &&
      message.createdAt - previous.createdAt < GROUP_WINDOW_MS;
    rows.push({ kind: 'message', key: message.id, message, compact });
    previous = message;
  }
  return rows;
}
