/**
 * Account test helpers: a browser-like HTTP client with its own cookie jar
 * (each agent is one device), signing up and in through the real routes,
 * and SDK clients whose `getToken` renews through `POST /app/token` as the
 * web app does.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import postgres from 'postgres';
import type { AuditEntry } from '../../src/accounts/audit-log.js';
import { PostgresAccountStore } from '../../src/accounts/postgres-account-store.js';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../../src/accounts/sqlite-account-store.js';
import type { SignInResult } from '../../src/chat/protocol.js';
import { connectChat, httpBase, sessionCookieValue, type ChatClient, type HttpAnswer } from './chat.js';
import type { TestServer } from './server.js';

/** The newest entries of a test server's audit log, read from its account store (SQLite file or PostgreSQL) as another node would. */
export async function auditEntries(ts: TestServer, limit = 50): Promise<AuditEntry[]> {
  const sql = ts.config.postgresUrl === '' ? undefined : postgres(ts.config.postgresUrl, { max: 1, onnotice: () => undefined });
  const store = sql ? new PostgresAccountStore({ sql }) : new SqliteAccountStore({ path: join(ts.dataDir, ACCOUNTS_DB_FILE) });
  try {
    await store.open();
    return (await store.listAudit({ limit })).entries;
  } finally {
    await store.close();
    await sql?.end({ timeout: 5 });
  }
}

/** A password every test account may use. */
export const PASSWORD = 'correct horse battery staple';

/** One device: sends JSON to the server, keeps the session cookie it is given. */
export class Device {
  /** The refresh token in this device's `parley_session` cookie, if it has one. */
  refreshToken: string | undefined;

  constructor(
    readonly ts: TestServer,
    /** Headers sent with every request (a User-Agent, an X-Forwarded-For…). */
    readonly headers: Record<string, string> = {},
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer<T>> {
    const all: Record<string, string> = { ...this.headers, ...headers };
    if (body !== undefined) all['content-type'] ??= 'application/json';
    if (this.refreshToken !== undefined) all.cookie = `parley_session=${this.refreshToken}`;
    const response = await fetch(`${httpBase(this.ts)}${path}`, {
      method,
      headers: all,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const cookie = sessionCookieValue(response.headers);
    if (cookie !== undefined) this.refreshToken = cookie === '' ? undefined : cookie;
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
  }

  post<T = any>(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<HttpAnswer<T>> {
    return this.request<T>('POST', path, body, headers);
  }

  get<T = any>(path: string): Promise<HttpAnswer<T>> {
    return this.request<T>('GET', path);
  }

  delete<T = any>(path: string): Promise<HttpAnswer<T>> {
    return this.request<T>('DELETE', path);
  }
}

/** Signs up on a new device; fails the test unless it answers 201. */
export async function signUp(ts: TestServer, username: string, extra: Record<string, unknown> = {}): Promise<{ device: Device; result: Required<SignInResult> }> {
  const device = new Device(ts);
  const answer = await device.post<Required<SignInResult>>('/app/signup', { username, password: PASSWORD, ...extra });
  assert.equal(answer.status, 201, `sign-up of ${username}: ${JSON.stringify(answer.body)}`);
  return { device, result: answer.body };
}

/** Signs in on a new device; fails the test unless it answers 200. */
export async function signIn(ts: TestServer, username: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<{ device: Device; result: Required<SignInResult> }> {
  const device = new Device(ts, headers);
  const answer = await device.post<Required<SignInResult>>('/app/signin', { username, password });
  assert.equal(answer.status, 200, `sign-in of ${username}: ${JSON.stringify(answer.body)}`);
  return { device, result: answer.body };
}

/** Connects an SDK client for a device: its token, renewed through `POST /app/token` like the web app. */
export function connectDevice(device: Device, token: string): Promise<ChatClient> {
  return connectChat(device.ts.wsUrl, token, {
    getToken: async () => {
      const answer = await device.post('/app/token');
      if (answer.status !== 200) throw new Error(`token renewal refused: ${answer.status}`);
      return answer.body.token as string;
    },
  });
}
