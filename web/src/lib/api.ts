import type { AppConfig, ChatUser, GuestSignInRequest, SignInResult } from '../protocol';

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

async function request<T>(method: 'GET' | 'POST', url: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
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
      // Fastify's errors are { error: 'Forbidden', message: '…' }; others may be { error: '…' }.
      if (typeof record.message === 'string') message = record.message;
      else if (typeof record.error === 'string') message = record.error;
    }
    throw new ApiError(response.status, message || response.statusText || `Request failed (${response.status})`);
  }
  return data as T;
}

export const api = {
  config: () => request<AppConfig>('GET', '/app/config'),
  guest: (body: GuestSignInRequest) => request<SignInResult>('POST', '/app/guest', body),
  /** A fresh connection token for a guest session. */
  token: (refreshToken: string) => request<{ token: string; user?: ChatUser }>('POST', '/app/token', { refreshToken }),
  signOut: (refreshToken: string) => request<unknown>('POST', '/app/signout', { refreshToken }),
  /** The deployment's own sign-in endpoint (guest sign-in off): GET with cookies. */
  external: (url: string) => request<SignInResult>('GET', url, undefined, { credentials: 'include' }),
};
