/**
 * How people are found by name: display names and usernames are folded to
 * lower-case words without diacritics, separated by single spaces, and a
 * query matches when each of its words starts a word of that text. Stores
 * keep the folded text of every user (their `search_key`) so that matching
 * is a plain `LIKE '% word%'` per query word: folded text holds only
 * letters, digits and spaces, so no pattern character can come from input.
 */

/** Query words used at most; more add nothing but cost. */
const MAX_QUERY_WORDS = 6;
/** Longest query word kept. */
const MAX_WORD_LENGTH = 40;

// Combining marks go (é → e); anything that is neither a letter nor a digit separates words ("Ann-Marie", "ann_m").
const COMBINING = /\p{M}+/gu;
const SEPARATORS = /[^\p{L}\p{N}]+/gu;

/** `text` as lower-case words without diacritics, joined by single spaces. */
export function foldWords(text: string): string {
  return text.normalize('NFKD').replace(COMBINING, '').toLowerCase().replace(SEPARATORS, ' ').trim();
}

/** The text a user is searched by: a leading space, then their folded display name and username. */
export function searchKeyOf(name: string, username: string | null | undefined): string {
  return ` ${foldWords(`${name} ${username ?? ''}`)}`;
}

/** The folded words of a query (at most a few, each at most 40 characters); empty for a blank one. */
export function queryWords(query: string): string[] {
  const folded = foldWords(query);
  if (folded === '') return [];
  return folded.split(' ').slice(0, MAX_QUERY_WORDS).map((word) => word.slice(0, MAX_WORD_LENGTH));
}

/** The `LIKE` patterns a search key must all match for `words`. */
export function likePatterns(words: readonly string[]): string[] {
  return words.map((word) => `% ${word}%`);
}

/** The key the directory sorts by: the lower-cased display name (ties broken by id). */
export function nameKeyOf(name: string): string {
  return name.toLowerCase();
}
