/**
 * Which rows of a long message list are rendered: a contiguous window
 * `[start, end)` of at most `size` rows. The list keeps every loaded message
 * in memory but puts only the window in the page, so a conversation with
 * thousands of loaded messages costs as little to show (and to switch back
 * to) as one with a hundred. The window slides when the reader nears one of
 * its edges; the view keeps the row it shows in place (see MessageList).
 *
 * Pure functions of row counts and keys, no DOM, so the rules are easy to test.
 */

export interface RowWindow {
  /** First rendered row. */
  start: number;
  /** One past the last rendered row. */
  end: number;
}

/** The last `size` rows: where a conversation opens and where new messages arrive. */
export function windowAtEnd(total: number, size: number): RowWindow {
  return { start: Math.max(0, total - size), end: total };
}

/** `size` rows centred on `index` (as far as the list allows): for jumping to a message. */
export function windowAround(index: number, total: number, size: number): RowWindow {
  const start = Math.max(0, Math.min(index - Math.floor(size / 2), total - size));
  return { start, end: Math.min(total, start + size) };
}

/** Slides `step` rows towards the start, dropping as many at the end as needed to stay within `size`. */
export function slideEarlier(window: RowWindow, step: number, size: number): RowWindow {
  const start = Math.max(0, window.start - step);
  return { start, end: Math.min(window.end, start + size) };
}

/** Slides `step` rows towards the end, dropping as many at the start as needed to stay within `size`. */
export function slideLater(window: RowWindow, total: number, step: number, size: number): RowWindow {
  const end = Math.min(total, window.end + step);
  return { start: Math.max(window.start, end - size), end };
}

/**
 * The window over `newKeys` that shows what `window` showed over `oldKeys`
 * after rows were added or removed (an older page prepended, a message
 * appended, a divider gone):
 * - it follows the first row it showed that still exists;
 * - a window that reached the end still does (new messages come into it);
 * - it grows back to `size` rows where the list has them, first towards the
 *   start (older rows just loaded show at once), then towards the end.
 */
export function rebaseWindow(window: RowWindow, oldKeys: readonly string[], newKeys: readonly string[], size: number): RowWindow {
  const total = newKeys.length;
  const wasAtEnd = window.end >= oldKeys.length;
  const index = new Map<string, number>();
  newKeys.forEach((key, i) => index.set(key, i));
  let start = -1;
  for (let i = window.start; i < window.end && start < 0; i += 1) {
    const found = index.get(oldKeys[i]!);
    if (found !== undefined) start = Math.max(0, found - (i - window.start));
  }
  if (start < 0) return windowAtEnd(total, size);
  let end: number;
  if (wasAtEnd) {
    end = total;
    start = Math.max(start, total - size);
  } else {
    end = Math.min(total, start + (window.end - window.start));
  }
  if (end - start < size) start = Math.max(0, end - size);
  if (end - start < size) end = Math.min(total, start + size);
  return { start, end };
}
