/**
 * Words as chat search sees them, the same in every store: runs of letters,
 * digits and combining marks (so "café" typed with a combining accent stays
 * one word), as SQLite's unicode61 tokenizer splits text. Stores that do not
 * fold case and diacritics themselves index and query {@link foldWord}ed
 * words, so that "Café" and "cafe" meet.
 */

const NON_WORD = /[^\p{L}\p{N}\p{M}]+/u;

// The combining diacritical blocks: what unicode61's remove_diacritics drops
// from Latin, Greek and Cyrillic letters. Marks that are letters' own parts
// in other scripts (Devanagari vowel signs, …) are kept.
const DIACRITICS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/gu;

/** The words of a text, in order (NFC, not folded; may repeat). */
export function wordsOf(text: string): string[] {
  return text.normalize('NFC').split(NON_WORD).filter((word) => word !== '');
}

/** A word without case or diacritics ("Café" → "cafe"); "" when it was diacritics only. */
export function foldWord(word: string): string {
  return word.normalize('NFD').replace(DIACRITICS, '').normalize('NFC').toLowerCase();
}
