/**
 * Turning what a user types into a search box into an SQLite FTS5 MATCH
 * expression. The user's text is never passed to FTS5 as syntax: only its
 * words are kept, each quoted as a string literal, so operators, quotes,
 * parentheses, column filters or `NEAR` in a query are plain words (or
 * nothing) and can neither fail the query nor change its meaning.
 */
import { wordsOf } from './search-words.js';

/** Words kept from one query; more would only make the query slower, not better. */
export const MAX_SEARCH_TERMS = 12;
/** Longest word kept (longer ones are cut): FTS5 handles long tokens, but nobody types them. */
export const MAX_SEARCH_TERM_LENGTH = 64;

/** The words of a query, in order, without duplicates, at most {@link MAX_SEARCH_TERMS}. */
export function searchTerms(query: string): string[] {
  const terms: string[] = [];
  for (const word of wordsOf(query)) {
    const term = [...word].slice(0, MAX_SEARCH_TERM_LENGTH).join('');
    if (!terms.includes(term)) terms.push(term);
    if (terms.length === MAX_SEARCH_TERMS) break;
  }
  return terms;
}

/**
 * The FTS5 expression matching messages that contain every word of the
 * query, each as a prefix (`"hel"*` finds "hello"), or undefined when the
 * query has no words. Words hold only letters, digits and marks, so the
 * quoting below is all the escaping they need; doubling `"` keeps it safe
 * even if that rule ever changes.
 */
export function ftsMatchExpression(query: string): string | undefined {
  const terms = searchTerms(query);
  if (terms.length === 0) return undefined;
  return terms.map((term) => `"${term.replaceAll('"', '""')}"*`).join(' AND ');
}
