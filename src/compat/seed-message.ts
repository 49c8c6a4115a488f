/**
 * The broadcast chat seed's wire format: one JSON object per WebSocket text
 * frame, `{"email", "username", "message"}`, in both directions.
 */
import type { ChannelEvent, ChatMessage } from '../chat/protocol.js';
import type { Publication } from '../protocol/types.js';

/** A message as a seed client sends it, after type checks. */
export interface SeedInput {
  /** Absent when the client sent none (or `null`). */
  email?: string;
  /** Absent when the client sent none (or `null`). */
  username?: string;
  message: string;
}

/** Why an incoming frame is not a seed message. */
export type SeedInputProblem = 'not-json' | 'not-an-object' | 'wrong-types';

/**
 * Reads one text frame from a seed client. `message` must be a string;
 * `email` and `username` may be strings, `null` or absent. Other fields are
 * ignored, as the seed's own server ignores them. Whether the text is a
 * valid chat message (not blank, not too long) is the chat's decision.
 */
export function parseSeedInput(text: string): SeedInput | { problem: SeedInputProblem } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not-json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not-an-object' };
  const fields = value as Record<string, unknown>;
  const { email, username, message } = fields;
  if (typeof message !== 'string') return { problem: 'wrong-types' };
  if (!optionalString(email) || !optionalString(username)) return { problem: 'wrong-types' };
  const input: SeedInput = { message };
  if (typeof email === 'string') input.email = email;
  if (typeof username === 'string') input.username = username;
  return input;
}

function optionalString(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === 'string';
}

/**
 * Escapes the characters that would make text markup. The seed's page
 * inserts `username` and `message` into the DOM as HTML (`v-html`); its own
 * clients strip markup before sending, but messages now also come from the
 * web app, SDK clients and the server API, which send text as typed. `"` and
 * `'` are left alone: the seed puts these fields in element content only,
 * never in an attribute, and chat text is full of apostrophes.
 */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));
}

/**
 * A chat message in the seed's shape, as JSON text. The email is always
 * empty: the chat keeps only a Gravatar hash, and sending a seed user's
 * email to everyone would leak it.
 */
export function encodeSeedMessage(message: Pick<ChatMessage, 'author' | 'text'>): string {
  return JSON.stringify({ email: '', username: escapeMarkup(message.author.name), message: escapeMarkup(message.text) });
}

/**
 * The chat message a publication of a conversation channel carries, when it
 * carries a new one. Edits, deletions, reactions and typing notices have no
 * place in the seed protocol, and publications with publisher `info` were
 * made by a client directly and are not chat events: all of them yield
 * undefined, as does anything unparsable.
 */
export function chatMessageOf(publication: Publication): ChatMessage | undefined {
  if (publication.info !== undefined) return undefined;
  let event: ChannelEvent;
  try {
    event = JSON.parse(publication.data) as ChannelEvent;
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || event.type !== 'message') return undefined;
  const { message } = event;
  if (typeof message !== 'object' || message === null || typeof message.text !== 'string' || typeof message.seq !== 'number') {
    return undefined;
  }
  if (typeof message.author?.name !== 'string' || message.deleted) return undefined;
  return message;
}
