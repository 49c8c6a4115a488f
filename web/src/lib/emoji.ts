import { gemoji, type Gemoji } from 'gemoji';

/** Shortcode (without colons) → emoji, e.g. `robot` → 🤖, `+1` → 👍. */
const shortcodes = new Map<string, string>();
/** Emoji → its first shortcode, for labels and tooltips. */
const names = new Map<string, string>();
for (const entry of gemoji) {
  for (const name of entry.names) shortcodes.set(name, entry.emoji);
  names.set(entry.emoji, entry.names[0] ?? entry.description);
}

/** A shortcode between colons: letters, digits, `_`, `+` and `-` (`:+1:`, `:-1:`, `:t-rex:`). */
const SHORTCODE = /:([a-z0-9_+-]+):/gi;
/** A shortcode that was just closed at the end of the text before the caret. */
const TRAILING_SHORTCODE = /:([a-z0-9_+-]+):$/i;

export function emojiFor(shortcode: string): string | undefined {
  return shortcodes.get(shortcode.toLowerCase());
}

export function shortcodeOf(emoji: string): string {
  return names.get(emoji) ?? names.get(emoji.replace(/\uFE0F/g, '')) ?? emoji;
}

/** Replaces every known `:shortcode:` with its emoji; unknown ones stay as typed. */
export function replaceShortcodes(text: string): string {
  if (!text.includes(':')) return text;
  return text.replace(SHORTCODE, (match, name: string) => emojiFor(name) ?? match);
}

/**
 * Used while typing: when the text before the caret ends with a complete known
 * shortcode, returns the text with it replaced and where the caret goes.
 */
export function replaceTrailingShortcode(text: string, caret: number): { text: string; caret: number } | null {
  const before = text.slice(0, caret);
  const match = TRAILING_SHORTCODE.exec(before);
  if (!match) return null;
  const emoji = emojiFor(match[1] ?? '');
  if (!emoji) return null;
  const start = before.length - match[0].length;
  return { text: before.slice(0, start) + emoji + text.slice(caret), caret: start + emoji.length };
}

export interface EmojiCategory {
  name: string;
  emoji: Gemoji[];
}

/** Gemoji's categories, in its order. */
export const categories: EmojiCategory[] = (() => {
  const byName = new Map<string, Gemoji[]>();
  for (const entry of gemoji) {
    const list = byName.get(entry.category) ?? [];
    list.push(entry);
    byName.set(entry.category, list);
  }
  return [...byName].map(([name, emoji]) => ({ name, emoji }));
})();

export function findEmoji(emoji: string): Gemoji | undefined {
  return gemoji.find((entry) => entry.emoji === emoji);
}

/**
 * Emoji whose shortcodes, tags or description match the query; names that
 * start with it come first.
 */
export function searchEmoji(query: string, limit = 120): Gemoji[] {
  const q = query.trim().toLowerCase().replace(/^:|:$/g, '');
  if (!q) return [];
  const starts: Gemoji[] = [];
  const contains: Gemoji[] = [];
  for (const entry of gemoji) {
    if (entry.names.some((name) => name.startsWith(q))) starts.push(entry);
    else if (
      entry.names.some((name) => name.includes(q)) ||
      entry.tags.some((tag) => tag.startsWith(q)) ||
      entry.description.includes(q)
    ) {
      contains.push(entry);
    }
  }
  return [...starts, ...contains].slice(0, limit);
}

/**
 * The shortcode being typed right before the caret (`:rob` → `rob`), for
 * autocompletion; at least two characters so a lone colon does not pop it up.
 */
export function partialShortcodeAt(text: string, caret: number): { query: string; start: number } | null {
  const match = /(^|[\s(])(:[a-z0-9_+-]{2,})$/i.exec(text.slice(0, caret));
  if (!match || !match[2]) return null;
  return { query: match[2].slice(1), start: caret - match[2].length };
}

const EMOJI_ONLY = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Regional_Indicator}|\uFE0F|\u200D|\s)+$/u;

/** Messages of one to three emoji and nothing else are shown larger. */
export function isEmojiOnly(text: string): boolean {
  if (!text || text.length > 32 || !EMOJI_ONLY.test(text) || /^[\d\s#*]+$/.test(text)) return false;
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let count = 0;
  for (const segment of segmenter.segment(text.trim())) if (segment.segment.trim()) count += 1;
  return count > 0 && count <= 3;
}

const RECENT_KEY = 'parley.recentEmoji';
const DEFAULT_RECENT = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀', '🚀', '✅', '🔥', '👏'];

/** Recently picked emoji, most recent first. */
export function recentEmoji(): string[] {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? 'null');
    if (Array.isArray(stored) && stored.every((item) => typeof item === 'string')) {
      return [...new Set([...(stored as string[]), ...DEFAULT_RECENT])].slice(0, 24);
    }
  } catch {
    // Unreadable storage: fall back to the defaults.
  }
  return DEFAULT_RECENT;
}

export function rememberEmoji(emoji: string): void {
  try {
    const list = [emoji, ...recentEmoji().filter((item) => item !== emoji)].slice(0, 24);
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Storage full or disabled: the picker simply does not remember.
  }
}
