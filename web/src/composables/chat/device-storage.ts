/**
 * What this browser keeps for a signed-in user across reloads: each
 * conversation's draft and its unsent messages (the outbox). Kept in
 * `localStorage` under the user's id, so two people sharing a browser never
 * see each other's drafts; written shortly after each change.
 */
import { watch, type WatchStopHandle } from 'vue';
import type { PendingMessage } from './state';
import { channelState, state } from './state';

/** Coalesces bursts of keystrokes into one write. */
const SAVE_DELAY_MS = 300;

interface SavedConversation {
  draft?: string;
  pending?: Array<Pick<PendingMessage, 'nonce' | 'text' | 'createdAt' | 'status' | 'error'>>;
}

type Saved = Record<string, SavedConversation>;

const KEY_PREFIX = 'parley.unsent.';
const keyFor = (userId: string) => `${KEY_PREFIX}${userId}`;

function read(userId: string): Saved {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(keyFor(userId)) ?? 'null');
    return parsed && typeof parsed === 'object' ? (parsed as Saved) : {};
  } catch {
    return {};
  }
}

function isSavedPending(value: unknown): value is PendingMessage {
  if (!value || typeof value !== 'object') return false;
  const item = value as Record<string, unknown>;
  return typeof item.nonce === 'string' && typeof item.text === 'string' && typeof item.createdAt === 'number';
}

/** What is worth saving now: non-empty drafts and every unsent message. */
function snapshot(): Saved {
  const saved: Saved = {};
  for (const [channel, cs] of Object.entries(state.channels)) {
    const entry: SavedConversation = {};
    if (cs.draft.trim()) entry.draft = cs.draft;
    if (cs.pending.length) {
      entry.pending = cs.pending.map(({ nonce, text, createdAt, status, error }) => (error ? { nonce, text, createdAt, status, error } : { nonce, text, createdAt, status }));
    }
    if (entry.draft !== undefined || entry.pending) saved[channel] = entry;
  }
  return saved;
}

/**
 * Restores the user's saved drafts and unsent messages into the state (an
 * interrupted send waits to be sent again, with its nonce), then keeps the
 * saved copy up to date until the returned function is called.
 */
export function keepOnDevice(userId: string): WatchStopHandle {
  forgetOthers(userId);
  for (const [channel, entry] of Object.entries(read(userId))) {
    if (!entry || typeof entry !== 'object') continue;
    const cs = channelState(channel);
    if (typeof entry.draft === 'string' && !cs.draft) cs.draft = entry.draft;
    for (const item of Array.isArray(entry.pending) ? entry.pending : []) {
      if (!isSavedPending(item) || cs.pending.some((p) => p.nonce === item.nonce)) continue;
      const failed = item.status === 'failed';
      cs.pending.push({
        nonce: item.nonce,
        text: item.text,
        createdAt: item.createdAt,
        status: failed ? 'failed' : 'waiting',
        ...(failed && typeof item.error === 'string' ? { error: item.error } : {}),
      });
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    timer = undefined;
    try {
      const saved = snapshot();
      if (Object.keys(saved).length) localStorage.setItem(keyFor(userId), JSON.stringify(saved));
      else localStorage.removeItem(keyFor(userId));
    } catch {
      // Storage full or unavailable: the state still holds everything for this tab.
    }
  };
  const stop = watch(
    () => Object.values(state.channels).map((cs) => [cs.draft, cs.pending.map((p) => p.status + p.nonce)]),
    () => {
      clearTimeout(timer);
      timer = setTimeout(save, SAVE_DELAY_MS);
    },
    { deep: true },
  );
  // A reload right after typing must not lose the last keystrokes.
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      save();
    }
  };
  window.addEventListener('pagehide', flush);
  return () => {
    flush();
    stop();
    window.removeEventListener('pagehide', flush);
  };
}

/**
 * This browser remembers one signed-in user at a time, and signing out forgets
 * what was kept; what another user left here belongs to a session that ended
 * without signing out (it expired), so nobody will come back for it: it goes.
 */
function forgetOthers(userId: string): void {
  try {
    const mine = keyFor(userId);
    const others: string[] = [];
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key && key.startsWith(KEY_PREFIX) && key !== mine) others.push(key);
    }
    for (const key of others) localStorage.removeItem(key);
  } catch {
    // Storage unavailable: nothing was kept either.
  }
}

/** Forgets what was saved for a user (on sign-out). */
export function forgetDevice(userId: string): void {
  try {
    localStorage.removeItem(keyFor(userId));
  } catch {
    // Nothing was saved.
  }
}
