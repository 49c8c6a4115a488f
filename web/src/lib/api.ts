import type {
  AccountInfo,
  AdminAccount,
  AppConfig,
  CreatedInvite,
  DeviceSession,
  ExternalSignInResult,
  GuestSignInRequest,
  InviteInfo,
  ProfileUpdate,
  SignInResult,
  SignUpRequest,
} from '../protocol';

/** An HTTP error from the app API, with the server's message when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'DELETE';

/**
 * One JSON request to the app API. Same-origin requests carry the session
 * cookie by themselves. State-changing requests always send a JSON body (the
 * server refuses them without `content-type: application/json`).
 */
async function request<T>(method: Method, url: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const payload = body === undefined && method !== 'GET' ? {} : body;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: payload === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      ...init,
    });
  } catch {
    throw new ApiError(0, 'Can’t reach the server. Check your connection and try again.');
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    let message = '';
    if (data && typeof data === 'object') {
      const record = data as Record<string, unknown>;
      // The app routes answer { error: '…' }; Fastify's own errors are { error: 'Forbidden', message: '…' }.
      if (typeof record.message === 'string') message = record.message;
      else if (typeof record.error === 'string') message = record.error;
    }
    throw new ApiError(response.status, message || response.statusText || `Request failed (${response.status})`);
  }
  return data as T;
}

const id = (value: string) => encodeURIComponent(value);

export const api = {
  config: () => request<AppConfig>('GET', '/app/config'),
  signUp: (body: SignUpRequest) => request<SignInResult>('POST', '/app/signup', body),
  signIn: (body: { username: string; password: string }) => request<SignInResult>('POST', '/app/signin', body),
  guest: (body: GuestSignInRequest) => request<SignInResult>('POST', '/app/guest', body),
  /**
   * A fresh connection token for the session in the cookie. With a guest
   * refresh token the old app kept in localStorage, the server moves that
   * session into the cookie (once; the app then forgets the token).
   */
  token: (legacyRefreshToken?: string) =>
    request<SignInResult>('POST', '/app/token', legacyRefreshToken ? { refreshToken: legacyRefreshToken } : {}),
  signOut: () => request<unknown>('POST', '/app/signout'),
  signOutEverywhere: () => request<unknown>('POST', '/app/signout-everywhere'),
  /** The deployment's own sign-in endpoint (`token` mode): GET with cookies. */
  external: (url: string) => request<ExternalSignInResult>('GET', url, undefined, { credentials: 'include' }),

  account: () => request<AccountInfo>('GET', '/app/account'),
  sessions: () => request<{ sessions: DeviceSession[] }>('GET', '/app/account/sessions'),
  endSession: (sessionId: string) => request<unknown>('DELETE', `/app/account/sessions/${id(sessionId)}`),
  changePassword: (body: { currentPassword: string; newPassword: string }) => request<unknown>('POST', '/app/account/password', body),
  updateProfile: (body: ProfileUpdate) => request<SignInResult>('POST', '/app/account/profile', body),
  claim: (body: { username: string; password: string }) => request<SignInResult>('POST', '/app/claim', body),

  admin: {
    accounts: (params: { query?: string; limit?: number; cursor?: string }) => {
      const search = new URLSearchParams();
      if (params.query) search.set('query', params.query);
      if (params.limit) search.set('limit', String(params.limit));
      if (params.cursor) search.set('cursor', params.cursor);
      const query = search.toString();
      return request<{ accounts: AdminAccount[]; next?: string }>('GET', `/app/admin/accounts${query ? `?${query}` : ''}`);
    },
    setRole: (accountId: string, role: 'admin' | 'member') => request<{ account: AdminAccount }>('POST', `/app/admin/accounts/${id(accountId)}/role`, { role }),
    deactivate: (accountId: string) => request<{ account: AdminAccount }>('POST', `/app/admin/accounts/${id(accountId)}/deactivate`),
    reactivate: (accountId: string) => request<{ account: AdminAccount }>('POST', `/app/admin/accounts/${id(accountId)}/reactivate`),
    invites: () => request<{ invites: InviteInfo[] }>('GET', '/app/admin/invites'),
    createInvite: (body: { expiresInHours?: number; maxUses?: number }) => request<CreatedInvite>('POST', '/app/admin/invites', body),
    revokeInvite: (inviteId: string) => request<unknown>('DELETE', `/app/admin/invites/${id(inviteId)}`),
  },
};
