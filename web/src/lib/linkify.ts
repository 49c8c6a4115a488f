import { replaceShortcodes } from './emoji';

/** A piece of message text: plain text, or a link to an http(s) URL. */
export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"*_~]+$/;

/** Drops punctuation that ends a sentence rather than the URL, and a `)` without its `(`. */
function trimUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCTUATION, '');
    for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']] as const) {
      if (url.endsWith(close) && url.split(open).length < url.split(close).length) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

function safeHref(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Splits message text into text and link segments. Only http and https URLs
 * become links; shortcodes in the text parts become emoji. The result is
 * rendered with text interpolation, so nothing in a message is ever parsed as HTML.
 */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  const pushText = (value: string) => {
    if (!value) return;
    const last = segments[segments.length - 1];
    const converted = replaceShortcodes(value);
    if (last?.kind === 'text') last.text += converted;
    else segments.push({ kind: 'text', text: converted });
  };
  let index = 0;
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const start = match.index ?? 0;
    const url = trimUrl(match[0]);
    const href = safeHref(url);
    pushText(text.slice(index, start));
    if (href) segments.push({ kind: 'link', text: url, href });
    else pushText(url);
    index = start + url.length;
  }
  pushText(text.slice(index));
  return segments;
}

/** Splits text around case-insensitive occurrences of `query`, for highlighting search hits. */
export function highlight(text: string, query: string): { text: string; match: boolean }[] {
  const q = query.trim().toLowerCase();
  if (!q) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  let index = 0;
  for (;;) {
    const found = lower.indexOf(q, index);
    if (found < 0) break;
    if (found > index) parts.push({ text: text.slice(index, found), match: false });
    parts.push({ text: text.slice(found, found + q.length), match: true });
    index = found + q.length;
  }
  if (index < text.length) parts.push({ text: text.slice(index), match: false });
  return parts;
}
