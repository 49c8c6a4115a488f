import { MAX_DISPLAY_NAME_LENGTH, MAX_ROOM_NAME_LENGTH, MAX_TOPIC_LENGTH, ROOM_NAME_PATTERN } from '../protocol';

// Deliberately loose: something@something.tld without spaces. The server has the final word.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Error message for a display name, or '' when it is fine (blank is fine: the server picks one). */
export function validateDisplayName(name: string): string {
  const trimmed = name.trim();
  if ([...trimmed].length > MAX_DISPLAY_NAME_LENGTH) return `That name is too long — keep it to ${MAX_DISPLAY_NAME_LENGTH} characters.`;
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return 'Names cannot contain control characters.';
  return '';
}

export function validateEmail(email: string): string {
  const trimmed = email.trim();
  if (!trimmed) return '';
  if (!EMAIL.test(trimmed)) return 'That doesn’t look like an email address (like name@example.com).';
  if (trimmed.length > 254) return 'That email address is too long.';
  return '';
}

/**
 * Turns what someone types into a room name the server accepts
 * (`#Team Chat!` → `team-chat`, `Café` → `cafe`): accents dropped, anything
 * but `a-z0-9_-` becomes `-`, no `-` or `_` at the start, at most
 * {@link MAX_ROOM_NAME_LENGTH} characters. The result is either '' (nothing
 * usable was typed) or a name that matches {@link ROOM_NAME_PATTERN}.
 */
export function normalizeRoomName(input: string): string {
  const name = input
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, MAX_ROOM_NAME_LENGTH)
    .replace(/-+$/, '');
  return ROOM_NAME_PATTERN.test(name) ? name : '';
}

export function validateRoomName(name: string): string {
  if (!name) return 'Give the room a name.';
  if (name.length > MAX_ROOM_NAME_LENGTH) return `Room names can be at most ${MAX_ROOM_NAME_LENGTH} characters.`;
  if (!ROOM_NAME_PATTERN.test(name)) return 'Use lower-case letters, digits, “-” and “_”, starting with a letter or digit.';
  return '';
}

export function validateTopic(topic: string): string {
  return topic.trim().length > MAX_TOPIC_LENGTH ? `Topics can be at most ${MAX_TOPIC_LENGTH} characters.` : '';
}
