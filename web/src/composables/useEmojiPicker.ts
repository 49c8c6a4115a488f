import { reactive, readonly } from 'vue';

/**
 * One emoji picker for the whole app (composer and reactions). It floats in
 * a fixed layer so it is never clipped by a scrolling list.
 */
const state = reactive({
  open: false,
  /** Viewport rectangle of the button that opened it. */
  anchor: null as { top: number; left: number; bottom: number; right: number } | null,
  label: 'Emoji',
});

let onPick: ((emoji: string) => void) | null = null;
let returnFocus: HTMLElement | null = null;

function open(anchor: HTMLElement, label: string, pick: (emoji: string) => void): void {
  const rect = anchor.getBoundingClientRect();
  state.anchor = { top: rect.top, left: rect.left, bottom: rect.bottom, right: rect.right };
  state.label = label;
  state.open = true;
  onPick = pick;
  returnFocus = anchor;
}

function close(restoreFocus = true): void {
  if (!state.open) return;
  state.open = false;
  onPick = null;
  if (restoreFocus && returnFocus?.isConnected) returnFocus.focus();
  returnFocus = null;
}

function pick(emoji: string, keepOpen = false): void {
  const handler = onPick;
  if (!keepOpen) close();
  handler?.(emoji);
}

/** Opens the picker from `anchor`, or closes it when it is already open from there. */
function toggle(anchor: HTMLElement, label: string, handler: (emoji: string) => void): void {
  if (state.open && returnFocus === anchor) close();
  else open(anchor, label, handler);
}

export function useEmojiPicker() {
  return { state: readonly(state), open, toggle, close, pick };
}
