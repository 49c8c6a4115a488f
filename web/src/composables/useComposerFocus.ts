/**
 * Hands keyboard focus back to the open conversation's composer, for parts
 * of the view that take it away (an inline edit that closes when saved or
 * cancelled would otherwise leave focus on the page body).
 */
let focusTarget: (() => void) | null = null;

/** The composer registers itself; the returned function unregisters it. */
export function registerComposer(focus: () => void): () => void {
  focusTarget = focus;
  return () => {
    if (focusTarget === focus) focusTarget = null;
  };
}

export function focusComposer(): void {
  focusTarget?.();
}
