/**
 * Who is signed in. The credential is the HttpOnly `parley_session` cookie,
 * which the app never sees: what is kept in localStorage is only a hint
 * (the user to show while the first token is fetched, and which way they
 * signed in), so a stolen localStorage holds nothing that signs anyone in.
 */
import { computed, reactive, readonly } from 'vue';
import { ApiError, api } from '../lib/api';
import type { AccountInfo, AppConfig, ChatUser, GuestSignInRequest, SignInResult, SignUpRequest } from '../protocol';
import { MAX_MESSAGE_LENGTH } from '../protocol';

const STORAGE_KEY = 'parley.session';

/** Notices shown on the sign-in screen after an involuntary sign-out. */
export const SIGNED_OUT_NOTICE = 'You were signed out. Sign in again to continue.';
export const DEACTIVATED_NOTICE = 'This account has been deactivated. Ask an administrator if you think this is a mistake.';

/** What is remembered across reloads: a display hint, never a credential. */
export interface StoredSession {
  user: ChatUser;
  /** `cookie`: an account or guest session in the cookie; `external`: signed in through the deployment's `tokenUrl`. */
  kind: 'cookie' | 'external';
}

/** The session can no longer get tokens (signed out elsewhere, deactivated): the user has to sign in again. */
export class SessionExpiredError extends Error {
  constructor(readonly notice: string = SIGNED_OUT_NOTICE) {
    super(notice);
    this.name = 'SessionExpiredError';
  }
}

function isUser(value: unknown): value is ChatUser {
  if (!value || typeof value !== 'object') return false;
  const user = value as Record<string, unknown>;
  return typeof user.id === 'string' && typeof user.name === 'string' && typeof user.color === 'string';
}

/**
 * The old app kept a guest's refresh token in localStorage. It is handed to
 * the server once (which moves the session into the cookie) and then dropped.
 */
let legacyRefreshToken = '';

function load(): StoredSession | null {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (!stored || typeof stored !== 'object') return null;
    const session = stored as Record<string, unknown>;
    if (!isUser(session.user)) return null;
    if (typeof session.refreshToken === 'string' && session.refreshToken) {
      legacyRefreshToken = session.refreshToken;
      return { user: session.user, kind: 'cookie' };
    }
    if (session.kind === 'cookie' || session.kind === 'external') return { user: session.user, kind: session.kind };
    if (session.external === true) return { user: session.user, kind: 'external' };
  } catch {
    // Corrupt entry: start signed out.
  }
  return null;
}

function save(session: StoredSession | null): void {
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(legacyRefreshToken ? { ...session, refreshToken: legacyRefreshToken } : session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the session lasts for this tab only.
  }
}

const state = reactive({
  session: load(),
  /** The signed-in user's account (role, username); null until known, and in `token` mode. */
  account: null as AccountInfo | null,
  config: null as AppConfig | null,
  configError: '',
  /** Shown on the sign-in screen after an involuntary sign-out. */
  notice: '',
});

/** The token from the sign-in response, used for the first connection instead of fetching another. */
let initialToken = '';

function setSession(result: SignInResult): void {
  legacyRefreshToken = '';
  state.session = { user: result.user, kind: 'cookie' };
  state.account = result.account ?? null;
  state.notice = '';
  initialToken = result.token;
  save(state.session);
}

/** Keeps the user and account from a token or profile answer (the hint follows the server's profile). */
function adopt(result: SignInResult): void {
  if (!state.session) return;
  if (isUser(result.user)) state.session = { ...state.session, user: result.user };
  if (result.account) state.account = result.account;
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

async function signUp(request: SignUpRequest): Promise<void> {
  setSession(await api.signUp(request));
}

async function signIn(username: string, password: string): Promise<void> {
  setSession(await api.signIn({ username, password }));
}

async function joinAsGuest(request: GuestSignInRequest): Promise<void> {
  setSession(await api.guest(request));
}

/** A guest becomes an account with the same user id: their rooms, DMs and messages stay theirs. */
async function claim(username: string, password: string): Promise<SignInResult> {
  const result = await api.claim({ username, password });
  adopt(result);
  return result;
}

/** Signs in through the deployment's own backend (`token` mode). */
async function signInExternal(): Promise<void> {
  const url = state.config?.tokenUrl;
  if (!url) throw new ApiError(403, 'This server does not offer a sign-in page.');
  const result = await api.external(url);
  legacyRefreshToken = '';
  state.session = { user: result.user, kind: 'external' };
  state.account = null;
  state.notice = '';
  initialToken = result.token;
  save(state.session);
}

/** The connection token to start with, once; afterwards the SDK asks {@link fetchToken}. */
function takeInitialToken(): string {
  const token = initialToken;
  initialToken = '';
  return token;
}

/** Why a refused session ended, in words for the sign-in screen. */
function noticeFor(message: string): string {
  return /deactivat/i.test(message) ? DEACTIVATED_NOTICE : SIGNED_OUT_NOTICE;
}

/** A fresh connection token. Throws {@link SessionExpiredError} when the session is gone for good. */
async function fetchToken(): Promise<string> {
  const session = state.session;
  if (!session) throw new SessionExpiredError();
  try {
    if (session.kind === 'external') {
      const url = state.config?.tokenUrl ?? (await loadConfig())?.tokenUrl;
      if (!url) throw new SessionExpiredError();
      return (await api.external(url)).token;
    }
    const migrating = legacyRefreshToken;
    const result = await api.token(migrating || undefined);
    // The server moved the old guest session into the cookie: the stored token is no longer needed.
    if (migrating && legacyRefreshToken === migrating) legacyRefreshToken = '';
    adopt(result);
    return result.token;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      legacyRefreshToken = '';
      throw new SessionExpiredError(noticeFor(error.message));
    }
    throw error;
  }
}

/** The account's latest state (role changes, username after a claim). Quietly keeps what is known on failure. */
async function refreshAccount(): Promise<void> {
  if (state.session?.kind !== 'cookie') return;
  try {
    state.account = await api.account();
  } catch {
    // The connection's own token refresh notices an ended session.
  }
}

function updateUser(user: ChatUser): void {
  if (!state.session) return;
  state.session = { ...state.session, user: { ...user, username: user.username ?? state.session.user.username } };
  save(state.session);
}

/** Signs out this device: tells the server (best effort), forgets the session and returns to the sign-in screen. */
async function signOut(): Promise<void> {
  const session = endLocally('');
  if (session?.kind === 'cookie') await api.signOut().catch(() => undefined);
}

/** Set while this device signs out everywhere: the server closing this connection too is expected, not news. */
let leavingEverywhere = false;

/** Signs out every device of the account, this one included. Throws when the server refused; then nothing changed. */
async function signOutEverywhere(): Promise<void> {
  leavingEverywhere = true;
  try {
    await api.signOutEverywhere();
    endLocally('');
  } finally {
    leavingEverywhere = false;
  }
}

/** The server ended the session (signed out elsewhere, deactivated): back to sign-in with a notice. */
function sessionEnded(notice: string = SIGNED_OUT_NOTICE): void {
  if (state.session && !leavingEverywhere) endLocally(notice);
}

function endLocally(notice: string): StoredSession | null {
  const session = state.session;
  state.session = null;
  state.account = null;
  state.notice = notice;
  initialToken = '';
  legacyRefreshToken = '';
  save(null);
  return session;
}

function clearNotice(): void {
  state.notice = '';
}

// Signing out in one tab signs out the others.
window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE_KEY) return;
  const next = load();
  if (!next && state.session) {
    state.session = null;
    state.account = null;
  } else if (next && next.user.id !== state.session?.user.id) state.session = next;
});

/** The server's password length rule (from its config; the server's defaults until that loads). */
const passwordLengths = {
  min: computed(() => state.config?.minPasswordLength ?? 8),
  max: computed(() => state.config?.maxPasswordLength ?? 256),
};

export function useSession() {
  return {
    state: readonly(state),
    maxMessageLength: () => state.config?.maxMessageLength ?? MAX_MESSAGE_LENGTH,
    passwordLengths: () => passwordLengths,
    loadConfig,
    signUp,
    signIn,
    joinAsGuest,
    claim,
    signInExternal,
    takeInitialToken,
    fetchToken,
    refreshAccount,
    adopt,
    updateUser,
    signOut,
    signOutEverywhere,
    sessionEnded,
    clearNotice,
  };
}
