import { reactive, readonly } from 'vue';
import { ApiError, api } from '../lib/api';
import type { AppConfig, ChatUser, GuestSignInRequest, SignInResult } from '../protocol';
import { MAX_MESSAGE_LENGTH } from '../protocol';

const STORAGE_KEY = 'parley.session';

/** What is remembered across reloads. The short-lived connection token is not: a fresh one is fetched on start. */
export interface StoredSession {
  user: ChatUser;
  /** Guest sessions: the credential for `POST /app/token` and `POST /app/signout`. */
  refreshToken?: string;
  /** Signed in through the deployment's `tokenUrl` (guest sign-in off). */
  external?: boolean;
}

/** The session can no longer get tokens (signed out elsewhere, or revoked): the user has to join again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your session has ended. Join again to continue.');
    this.name = 'SessionExpiredError';
  }
}

function isChatUser(value: unknown): value is ChatUser {
  if (!value || typeof value !== 'object') return false;
  const user = value as Record<string, unknown>;
  return typeof user.id === 'string' && typeof user.name === 'string' && typeof user.color === 'string';
}

function load(): StoredSession | null {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (!stored || typeof stored !== 'object') return null;
    const session = stored as Record<string, unknown>;
    if (!isChatUser(session.user)) return null;
    if (typeof session.refreshToken === 'string') return { user: session.user, refreshToken: session.refreshToken };
    if (session.external === true) return { user: session.user, external: true };
  } catch {
    // Corrupt entry: start signed out.
  }
  return null;
}

function save(session: StoredSession | null): void {
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the session lasts for this tab only.
  }
}

const state = reactive({
  session: load(),
  config: null as AppConfig | null,
  configError: '',
  /** Shown on the join screen after an involuntary sign-out. */
  notice: '',
});

/** The token from the sign-in response, used for the first connection instead of fetching another. */
let initialToken = '';

function setSession(result: SignInResult, extra: { refreshToken?: string; external?: boolean }): void {
  state.session = { user: result.user, ...extra };
  state.notice = '';
  initialToken = result.token;
  save(state.session);
}

async function loadConfig(): Promise<AppConfig | null> {
  try {
    state.config = await api.config();
    state.configError = '';
  } catch (error) {
    state.configError = error instanceof ApiError ? error.message : 'Can’t reach the server.';
  }
  return state.config;
}

async function joinAsGuest(request: GuestSignInRequest): Promise<void> {
  const result = await api.guest(request);
  if (!result.refreshToken) throw new ApiError(500, 'The server did not return a session.');
  setSession(result, { refreshToken: result.refreshToken });
}

/** Signs in through the deployment's own backend (guest sign-in off). */
async function signInExternal(): Promise<void> {
  const url = state.config?.tokenUrl;
  if (!url) throw new ApiError(403, 'This server does not offer a sign-in page.');
  const result = await api.external(url);
  setSession(result, { external: true });
}

/** The connection token to start with, once; afterwards the SDK asks {@link fetchToken}. */
function takeInitialToken(): string {
  const token = initialToken;
  initialToken = '';
  return token;
}

/** A fresh connection token. Throws {@link SessionExpiredError} when the session is gone for good. */
async function fetchToken(): Promise<string> {
  const session = state.session;
  if (!session) throw new SessionExpiredError();
  try {
    if (session.refreshToken) {
      const result = await api.token(session.refreshToken);
      if (result.user && isChatUser(result.user) && state.session) {
        state.session = { ...state.session, user: result.user };
        save(state.session);
      }
      return result.token;
    }
    const url = state.config?.tokenUrl ?? (await loadConfig())?.tokenUrl;
    if (!url) throw new SessionExpiredError();
    return (await api.external(url)).token;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) throw new SessionExpiredError();
    throw error;
  }
}

function updateUser(user: ChatUser): void {
  if (!state.session) return;
  state.session = { ...state.session, user };
  save(state.session);
}

/** Signs out: tells the server (best effort), forgets the session and returns to the join screen. */
async function signOut(notice = ''): Promise<void> {
  const session = state.session;
  state.session = null;
  state.notice = notice;
  initialToken = '';
  save(null);
  if (session?.refreshToken) await api.signOut(session.refreshToken).catch(() => undefined);
}

// Signing out in one tab signs out the others.
window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE_KEY) return;
  const next = load();
  if (!next && state.session) state.session = null;
  else if (next && next.user.id !== state.session?.user.id) state.session = next;
});

export function useSession() {
  return {
    state: readonly(state),
    maxMessageLength: () => state.config?.maxMessageLength ?? MAX_MESSAGE_LENGTH,
    loadConfig,
    joinAsGuest,
    signInExternal,
    takeInitialToken,
    fetchToken,
    updateUser,
    signOut,
  };
}
