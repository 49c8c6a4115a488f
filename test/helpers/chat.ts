/**
 * Chat test helpers: guests signed in through the real `POST /app/guest`,
 * SDK clients with a typed `chat.*` RPC call, and the chat events a
 * subscription received.
 */
import assert from 'node:assert/strict';
import type { Options } from 'centrifuge';
import type {
  ChannelEvent,
  ChatMethod,
  ChatRpc,
  ChatUser,
  GuestSignInRequest,
  SignInResult,
  UserEvent,
} from '../../src/chat/protocol.js';
import { connectClient, disconnectClient, rejection, subscribe, type TestClient, type TestSubscription } from './sdk.js';
import { mintToken, type TestServer } from './server.js';
import { waitFor } from './wait.js';

/** An HTTP answer: status and parsed JSON body (undefined when empty). */
export interface HttpAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** `http://127.0.0.1:<port>` of a test server. */
export function httpBase(ts: TestServer): string {
  return `http://127.0.0.1:${ts.server.port}`;
}

/** POSTs JSON (or a raw string body) and parses the answer. */
export async function postJson<T = any>(ts: TestServer, path: string, body: unknown, contentType = 'application/json'): Promise<HttpAnswer<T>> {
  const response = await fetch(`${httpBase(ts)}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

/** GETs JSON and parses the answer. */
export async function getJson<T = any>(ts: TestServer, path: string): Promise<HttpAnswer<T>> {
  const response = await fetch(`${httpBase(ts)}${path}`);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

/** A guest as `POST /app/guest` returned it, with the refresh token its session cookie carries. */
export type Guest = Required<SignInResult> & { refreshToken: string };

/** The value of the `parley_session` cookie an answer sets, if it sets one. */
export function sessionCookieValue(headers: Headers): string | undefined {
  for (const cookie of headers.getSetCookie()) {
    const match = /^parley_session=([^;]*)/.exec(cookie);
    if (match) return match[1];
  }
  return undefined;
}

/** Signs in a guest through the real endpoint; fails the test unless it answers 200 with a session cookie. */
export async function signInGuest(ts: TestServer, request: GuestSignInRequest = {}): Promise<Guest> {
  const answer = await postJson<Required<SignInResult>>(ts, '/app/guest', request);
  assert.equal(answer.status, 200, `guest sign-in: ${JSON.stringify(answer.body)}`);
  const refreshToken = sessionCookieValue(answer.headers);
  assert.ok(refreshToken, 'the guest session is in the cookie');
  return { ...answer.body, refreshToken };
}

/** An SDK client with a typed chat RPC. */
export interface ChatClient extends TestClient {
  clientId: string;
  rpc<M extends ChatMethod>(method: M, request: ChatRpc[M]['request']): Promise<ChatRpc[M]['result']>;
}

/** Connects a real SDK client with a token (a guest's, or one minted). */
export async function connectChat(wsUrl: string, token: string, options: Partial<Options> = {}): Promise<ChatClient> {
  const made = await connectClient(wsUrl, { token, ...options });
  return {
    ...made,
    rpc: async (method, request) => (await made.client.rpc(method, request)).data,
  };
}

/** Signs in a guest and connects a client for them. */
export async function guestClient(ts: TestServer, request: GuestSignInRequest = {}): Promise<ChatClient & { guest: Guest; user: ChatUser }> {
  const guest = await signInGuest(ts, request);
  const client = await connectChat(ts.wsUrl, guest.token);
  return { ...client, guest, user: guest.user };
}

/** The error an RPC failed with (asserting that it failed). */
export function rpcError(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  return rejection(promise);
}

/** Asserts that an RPC fails with `code` and a message matching `message`. */
export async function assertRpcError(promise: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  const error = await rpcError(promise);
  assert.equal(error.code, code, `expected error ${code}, got ${error.code} "${error.message}"`);
  if (message) assert.match(error.message, message);
}

/** The chat events a subscription received, in order. */
export function chatEvents<E = ChannelEvent>(sub: TestSubscription): E[] {
  return sub.publications.map((p) => p.data as E);
}

/** Waits until a subscription received an event matching `match`; returns it. */
export async function waitForEvent<E = ChannelEvent>(
  sub: TestSubscription,
  match: (event: E) => boolean,
  message: string,
  timeoutMs = 5000,
): Promise<E> {
  return waitFor(() => chatEvents<E>(sub).find(match), { timeoutMs, message });
}

/** Waits for a user event on a `user:<id>` subscription. */
export function waitForUserEvent(sub: TestSubscription, match: (event: UserEvent) => boolean, message: string): Promise<UserEvent> {
  return waitForEvent<UserEvent>(sub, match, message);
}

/** Users made by {@link joinUsers}. */
export interface JoinedUsers {
  ids: string[];
  /** Connected clients subscribed to `room:general`, for users asked to stay online (in id order). */
  online: ChatClient[];
}

/**
 * Makes `count` chat users `<prefix>-<n>` named `<name> <n>` (n zero-padded,
 * so names sort as numbers do), each joined to `general` through
 * `chat.bootstrap` on a connection of their own with a minted token (no
 * sign-in rate limit). The first `online` of them stay connected and
 * subscribed to `room:general`, so they are present there; the others
 * disconnect once joined.
 */
export async function joinUsers(
  ts: TestServer,
  count: number,
  options: { prefix: string; name: string; online?: number; concurrency?: number },
): Promise<JoinedUsers> {
  const width = String(count).length;
  const ids = Array.from({ length: count }, (_, i) => `${options.prefix}-${String(i + 1).padStart(width, '0')}`);
  const online: ChatClient[] = new Array(Math.min(options.online ?? 0, count));
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const id = ids[index]!;
      const name = `${options.name} ${id.slice(options.prefix.length + 1)}`;
      const client = await connectChat(ts.wsUrl, await mintToken({ sub: id, info: { name } }));
      await client.rpc('chat.bootstrap', {});
      if (index < online.length) {
        await subscribe(client.client, 'room:general');
        online[index] = client;
      } else {
        disconnectClient(client.client);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return { ids, online };
}
