/**
 * Checks on what users type, with messages written for the person who
 * typed it (they are shown as they are in the app).
 */
import { Errors } from '../protocol/errors.js';
import { MAX_MESSAGE_LENGTH, MAX_ROOM_NAME_LENGTH, MAX_TOPIC_LENGTH, ROOM_NAME_PATTERN } from './protocol.js';

/** Longest `nonce` of `chat.send`. */
export const MAX_NONCE_LENGTH = 64;
/** Longest reaction, in UTF-16 units: room for the longest ZWJ emoji sequences, not for text. */
export const MAX_EMOJI_LENGTH = 32;
/** Longest search query, in characters. */
export const MAX_QUERY_LENGTH = 200;

/**
 * Something that makes a string an emoji: a pictograph, a flag (a pair of
 * regional indicators) or a keycap (`1️⃣`, `#️⃣`).
 */
const EMOJI_MARK = /\p{Extended_Pictographic}|\p{Regional_Indicator}{2}|\u20e3/u;
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u;
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Length in characters (code points), so an emoji counts as one, as people count. */
export function charLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * A message text, trimmed.
 * @throws ProtocolError 107 when it is empty or whitespace only, too long, or holds control characters.
 */
export function messageText(raw: string): string {
  const text = raw.trim();
  if (text === '') throw Errors.badRequest('Message is empty');
  if (charLength(text) > MAX_MESSAGE_LENGTH) {
    throw Errors.badRequest(`Message is longer than ${MAX_MESSAGE_LENGTH} characters`);
  }
  // Tabs and line breaks are text; other control characters only hide or garble it.
  if (CONTROL_EXCEPT_LINE_BREAKS.test(text)) throw Errors.badRequest('Message contains control characters');
  return text;
}

/** @throws ProtocolError 107 unless `name` is a valid room name. */
export function roomName(name: string): string {
  if (!ROOM_NAME_PATTERN.test(name)) {
    throw Errors.badRequest(
      `Room names use lower-case letters, digits, "-" and "_", start with a letter or digit, ` +
        `and have at most ${MAX_ROOM_NAME_LENGTH} characters`,
    );
  }
  return name;
}

/** A room topic, trimmed, whitespace collapsed. @throws ProtocolError 107 when too long or with control characters. */
export function roomTopic(raw: string | undefined): string {
  if (raw === undefined) return '';
  if (/\p{Cc}/u.test(raw.replace(/[\t\n\r]/g, ' '))) throw Errors.badRequest('Topic contains control characters');
  const topic = raw.trim().replace(/\s+/gu, ' ');
  if (charLength(topic) > MAX_TOPIC_LENGTH) throw Errors.badRequest(`Topic is longer than ${MAX_TOPIC_LENGTH} characters`);
  return topic;
}

/** @throws ProtocolError 107 unless `emoji` looks like one emoji (or a short sequence of them). */
export function reactionEmoji(emoji: string): string {
  if (emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH || WHITESPACE_OR_CONTROL.test(emoji) || !EMOJI_MARK.test(emoji)) {
    throw Errors.badRequest('Reactions must be an emoji');
  }
  return emoji;
}

/** @throws ProtocolError 107 for an empty or too long nonce. */
export function sendNonce(nonce: string | undefined): string | undefined {
  if (nonce === undefined) return undefined;
  if (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH) {
    throw Errors.badRequest(`nonce must have 1 to ${MAX_NONCE_LENGTH} characters`);
  }
  return nonce;
}

/** @throws ProtocolError 107 when a search query is longer than {@link MAX_QUERY_LENGTH} characters. */
export function searchQuery(query: string): string {
  if (charLength(query) > MAX_QUERY_LENGTH) throw Errors.badRequest(`Search query is longer than ${MAX_QUERY_LENGTH} characters`);
  return query;
}

/** A member search, trimmed and lower-cased ("" for none). @throws ProtocolError 107 as {@link searchQuery}. */
export function memberQuery(raw: string | undefined): string {
  return searchQuery((raw ?? '').trim().toLowerCase());
}

/** @throws ProtocolError 107 unless `limit` is a whole number from 1; larger than `max` is capped. */
export function pageLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return Math.min(fallback, max);
  if (!Number.isSafeInteger(limit) || limit < 1) throw Errors.badRequest('limit must be a whole number of at least 1');
  return Math.min(limit, max);
}
