/**
 * Keeping what a reader looks at in place while a scrolling list's content
 * changes above it (rows added, or dropped, before the visible ones): note
 * where the visible rows are, change the content, then scroll by however far
 * they moved. Rows are elements with a `data-row-key` attribute.
 */

export interface ScrollAnchor {
  key: string;
  /** Pixels from the top of the scroller to the top of the row. */
  offset: number;
}

/**
 * The rows at least partly visible in `scroller`, and where they are. Several,
 * because the first may not survive the change (a day divider moves to an
 * older message when an older page of the same day arrives).
 */
export function captureAnchors(scroller: HTMLElement, content: HTMLElement): ScrollAnchor[] {
  const { top, bottom } = scroller.getBoundingClientRect();
  const anchors: ScrollAnchor[] = [];
  for (const row of content.querySelectorAll<HTMLElement>('[data-row-key]')) {
    const box = row.getBoundingClientRect();
    if (box.top >= bottom) break;
    if (box.bottom > top) anchors.push({ key: row.dataset.rowKey!, offset: box.top - top });
  }
  return anchors;
}

/** Scrolls so that the first anchor row still present is where it was. */
export function restoreAnchors(scroller: HTMLElement, content: HTMLElement, anchors: readonly ScrollAnchor[]): void {
  for (const anchor of anchors) {
    const row = content.querySelector<HTMLElement>(`[data-row-key="${CSS.escape(anchor.key)}"]`);
    if (!row) continue;
    scroller.scrollTop += row.getBoundingClientRect().top - scroller.getBoundingClientRect().top - anchor.offset;
    return;
  }
}
