import {
  Centrifuge,
  UnauthorizedError,
  type JoinContext,
  type LeaveContext,
  type PublicationContext,
  type SubscribedContext,
  type Subscription,
  type TransportEndpoint,
} from 'centrifuge';
import { reactive, readonly } from 'vue';
import type { AdminRpc, ChatRpc } from '../protocol';
import { SessionExpiredError } from './useSession';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected';

const connection = reactive({
  state: 'idle' as ConnectionState,
  /** Whether this session has been connected at least once (then "connecting" means reconnecting). */
  everConnected: false,
  /** Why the client stopped, when it did. */
  reason: '',
});

let client: Centrifuge | null = null;
/** A reconnect asked for by {@link renewConnection}: its disconnect is not shown as one. */
let renewing = false;
const connectedWaiters = new Set<() => void>();

export interface RealtimeOptions {
  /** Token to connect with first; empty makes the SDK call `getToken` at once. */
  token: string;
  getToken: () => Promise<string>;
  onConnected: () => void;
  /** The session can no longer connect (token refused for good); `notice` says why, for the sign-in screen. */
  onUnauthorized: (notice: string) => void;
  /**
   * The server closed the connection for good (or refused to connect) with
   * `code` and `reason`: the session may have ended (signed out everywhere,
   * account deactivated), which only the token endpoint can tell.
   */
  onRefused: (code: number, reason: string) => void;
}

export interface SubscriptionHandlers {
  publication: (ctx: PublicationContext) => void;
  subscribed?: (ctx: SubscribedContext) => void;
  join?: (ctx: JoinContext) => void;
  leave?: (ctx: LeaveContext) => void;
}

/**
 * WebSocket first; where it cannot open (a proxy that drops `Upgrade`, a
 * network that blocks it) the SDK moves on to HTTP-streaming, then to
 * server-sent events, and keeps the first one that opened.
 */
function transports(): TransportEndpoint[] {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return [
    { transport: 'websocket', endpoint: `${scheme}://${location.host}/connection/websocket` },
    { transport: 'http_stream', endpoint: `${location.origin}/connection/http_stream` },
    { transport: 'sse', endpoint: `${location.origin}/connection/sse` },
  ];
}

export function startRealtime(options: RealtimeOptions): void {
  stopRealtime();
  connection.everConnected = false;
  connection.reason = '';
  let endedNotice = '';
  const instance = new Centrifuge(transports(), {
    // Where the fallback transports send the client's commands.
    emulationEndpoint: `${location.origin}/emulation`,
    token: options.token,
    getToken: async () => {
      try {
        return await options.getToken();
      } catch (error) {
        // UnauthorizedError tells the SDK to stop instead of retrying.
        if (error instanceof SessionExpiredError) {
          endedNotice = error.notice;
          throw new UnauthorizedError(error.message);
        }
        throw error;
      }
    },
  });
  instance.on('connecting', () => {
    connection.state = 'connecting';
    renewing = false;
  });
  instance.on('connected', () => {
    connection.state = 'connected';
    connection.everConnected = true;
    connection.reason = '';
    for (const resolve of connectedWaiters) resolve();
    connectedWaiters.clear();
    options.onConnected();
  });
  let lastTokenReset = 0;
  instance.on('disconnected', (ctx) => {
    if (renewing) return;
    connection.state = 'disconnected';
    connection.reason = ctx.reason;
    // 1: unauthorized (getToken said the session is gone).
    if (ctx.code === 1) options.onUnauthorized(endedNotice);
    // 3500: the server refused the token itself (e.g. its secret changed): once, start over with a fresh one.
    else if (ctx.code === 3500 && Date.now() - lastTokenReset > 60_000) {
      lastTokenReset = Date.now();
      instance.setToken('');
      instance.connect();
    }
    // Codes from 100 up come from the server (0–99 are the SDK's own, e.g. 0: disconnect() was called).
    else if (ctx.code >= 100) options.onRefused(ctx.code, ctx.reason);
  });
  client = instance;
  connection.state = 'connecting';
  instance.connect();
}

export function stopRealtime(): void {
  if (!client) return;
  const instance = client;
  client = null;
  instance.removeAllListeners();
  for (const sub of Object.values(instance.subscriptions())) sub.removeAllListeners();
  instance.disconnect();
  connectedWaiters.clear();
  connection.state = 'idle';
}

/**
 * Reconnects at once with `token`, so the server sees what it carries (a new
 * display name, colour or avatar). Shown as "reconnecting", not as a drop.
 */
export function renewConnection(token: string): void {
  if (!client) return;
  renewing = true;
  connection.state = 'connecting';
  client.disconnect();
  client.setToken(token);
  client.connect();
}

/** Connect again after the client stopped ("Disconnected" banner's retry). */
export function reconnect(): void {
  client?.connect();
}

/**
 * Resolves when connected: at once when already, else at the next connect,
 * however long that takes. Waiters still pending when the client stops never
 * settle (and are released).
 */
export function whenConnected(): Promise<void> {
  if (connection.state === 'connected') return Promise.resolve();
  return new Promise((resolve) => connectedWaiters.add(resolve));
}

type Methods = ChatRpc & AdminRpc;

/** Calls a `chat.*` (or, for admins, `admin.*`) RPC method; rejects with the server's `{ code, message }` error. */
export async function rpc<M extends keyof Methods>(method: M, data: Methods[M]['request']): Promise<Methods[M]['result']> {
  if (!client) throw { code: 2, message: 'not connected' };
  const reply = await client.rpc(method, data);
  return reply.data as Methods[M]['result'];
}

/** Subscribes to a channel (once; a second call returns the existing subscription). */
export function subscribe(channel: string, handlers: SubscriptionHandlers): Subscription | null {
  if (!client) return null;
  const existing = client.getSubscription(channel);
  if (existing) return existing;
  const sub = client.newSubscription(channel);
  sub.on('publication', handlers.publication);
  if (handlers.subscribed) sub.on('subscribed', handlers.subscribed);
  if (handlers.join) sub.on('join', handlers.join);
  if (handlers.leave) sub.on('leave', handlers.leave);
  sub.subscribe();
  return sub;
}

export function getSubscription(channel: string): Subscription | null {
  return client?.getSubscription(channel) ?? null;
}

export function unsubscribe(channel: string): void {
  const sub = client?.getSubscription(channel);
  if (!sub || !client) return;
  sub.removeAllListeners();
  sub.unsubscribe();
  client.removeSubscription(sub);
}

/** User ids with a connection subscribed to the channel now. */
export async function presentUsers(channel: string): Promise<Set<string>> {
  const sub = getSubscription(channel);
  if (!sub) return new Set();
  const result = await sub.presence();
  return new Set(Object.values(result.clients).map((info) => info.user));
}

export function useConnection() {
  return readonly(connection);
}
