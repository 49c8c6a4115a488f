/**
 * Chat search on PostgreSQL full text without its parser or dictionaries:
 * a message's words are split and folded here (as SQLite's unicode61
 * tokenizer with `remove_diacritics` would) and stored as a `tsvector`
 * built from those lexemes verbatim; a query becomes a `tsquery` of
 * quoted prefix lexemes. Both sides fold the same way, so the behaviour
 * matches the SQLite store's word for word. PostgreSQL's own parser would
 * not: it keeps host names, e-mail addresses, file paths and version numbers
 * as single tokens and splits hyphenated words differently; and folding
 * diacritics there needs the `unaccent` extension, which a database role
 * may not be allowed to create.
 */
import { searchTerms } from './fts-query.js';
import { foldWord, wordsOf } from './search-words.js';

/**
 * Longest indexed word, in code points (longer ones are cut). A query word
 * is at most 64 code points before folding, and folding at most triples a
 * code point, so cutting here never hides a prefix match; 256 code points
 * stay under PostgreSQL's 2 KB lexeme limit.
 */
const MAX_INDEXED_WORD_LENGTH = 256;

/** The distinct folded words of a message text, for `array_to_tsvector`. */
export function searchLexemes(text: string): string[] {
  const lexemes = new Set<string>();
  for (const word of wordsOf(text)) {
    const folded = [...foldWord(word)].slice(0, MAX_INDEXED_WORD_LENGTH).join('');
    if (folded !== '') lexemes.add(folded);
  }
  return [...lexemes];
}

/**
 * The `tsquery` text matching messages that contain every word of the
 * query, each as a prefix (`'hel':* & 'wor':*`), or undefined when the query
 * has no words. Each lexeme is quoted, so nothing in it is read as tsquery
 * syntax; words hold only letters, digits and marks, and escaping `'` and
 * `\` keeps that safe even if the word rule ever changes.
 */
export function tsqueryText(query: string): string | undefined {
  const lexemes = [...new Set(searchTerms(query).map(foldWord).filter((word) => word !== ''))];
  if (lexemes.length === 0) return undefined;
  return lexemes.map((lexeme) => `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}':*`).join(' & ');
}
