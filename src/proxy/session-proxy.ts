/**
 * One connection's side of the backend proxy: the headers forwarded from
 * the request that opened it, the `meta` the connect proxy gave it, and the
 * calls its commands make. Made only when a proxy URL is configured.
 */
import type { ConnectionCredentials } from '../auth/claims.js';
import type { ConnectRequest, SubscribeRequest } from '../protocol/commands.js';
import type { Disconnect } from '../protocol/errors.js';
import { DisconnectError } from '../protocol/errors.js';
import type { BackendProxy } from './backend-proxy.js';
import { FAILED } from './proxy-call.js';
import type { ForwardedHeaders } from './forwarded-headers.js';
import {
  connectGrantOf,
  publishDecisionOf,
  refreshDecisionOf,
  rpcDataOf,
  subscribeGrantOf,
  type ProxyCaller,
  type PublishDecision,
  type RefreshDecision,
  type SubscribeGrant,
} from './proxy-shapes.js';

/** After a refresh call failed, how long until it is tried again; the connection lives on meanwhile (a backend's hiccup disconnects no one). */
export const REFRESH_RETRY_MS = 60_000;

/** What a connect through the backend gives the session. */
export interface ProxiedConnect {
  credentials: ConnectionCredentials;
  /** For the connect reply's `data`. */
  data: { value: unknown } | undefined;
  /** Options of the server-side subscriptions in `credentials.channels` (see `SessionSubscriptions.fromToken`). */
  subs: ReadonlyMap<string, { info?: unknown; data?: unknown }>;
}

/** The outcome of a server-side refresh. */
export type RefreshOutcome = RefreshDecision | { retryInMs: number } | { disconnect: Disconnect };

export class SessionProxy {
  private meta: string | undefined;
  /** Whether the connect proxy authenticated this connection (so the refresh proxy extends it). */
  private proxied = false;

  constructor(
    private readonly backend: BackendProxy,
    private readonly client: string,
    /** Dropped after connect unless a later call forwards them (see `BackendProxy.keepsHeaders`). */
    private headers: ForwardedHeaders | undefined,
    private readonly user: () => string,
    private readonly transport = 'websocket',
    private readonly protocol = 'json',
  ) {}

  /** Whether a connect without a token is authenticated by the backend. */
  get connects(): boolean {
    return this.backend.has('connect');
  }

  /** Whether the server extends this connection with the refresh proxy rather than the client with a new token. */
  get refreshesOnServer(): boolean {
    return this.proxied && this.backend.has('refresh');
  }


  /** The rpc call, when the backend answers rpc methods the server does not have (see `Node.callRpc`). */
  get rpcFallback(): ((method: string, data: unknown) => Promise<unknown>) | undefined {
    return this.backend.has('rpc') ? this.rpc : undefined;
  }

  /**
   * Takes the headers the client emulates in its connect command, however
   * it authenticates: every later call forwards the configured ones.
   */
  connecting(request: ConnectRequest): void {
    this.headers = this.backend.addEmulatedHeaders(this.headers, request.headers);
  }

  /** Authenticates the connection with the backend (see `BackendProxy.call` for what it throws). */
  async connect(request: ConnectRequest): Promise<ProxiedConnect> {
    const fields: Record<string, unknown> = { name: request.name, version: request.version };
    if (request.data !== undefined) fields.data = request.data;
    const grant = await this.backend.call('connect', this.caller(false), fields, this.headers, connectGrantOf);
    this.meta = grant.meta;
    this.proxied = true;
    const credentials: ConnectionCredentials = { user: grant.user, channels: grant.channels };
    if (grant.expiresAt !== undefined) credentials.expiresAt = grant.expiresAt;
    if (grant.info) credentials.info = grant.info.value;
    return { credentials, data: grant.data, subs: grant.subs };
  }

  /** Called once the connection is connected, whichever way: the headers go unless later calls need them. */
  connected(): void {
    if (!this.backend.keepsHeaders) this.headers = undefined;
  }

  /** Asks the backend whether the connection lives on; never rejects for a backend failure (it is retried later). */
  async refresh(): Promise<RefreshOutcome> {
    try {
      const decision = await this.backend.call('refresh', this.caller(true), {}, this.headers, refreshDecisionOf, 'return');
      return decision === FAILED ? { retryInMs: REFRESH_RETRY_MS } : decision;
    } catch (error) {
      if (error instanceof DisconnectError) return { disconnect: error.disconnect };
      // An error answer says nothing about the connection's life: asked again later, as after a failure.
      return { retryInMs: REFRESH_RETRY_MS };
    }
  }

  subscribe(channel: string, request: SubscribeRequest): Promise<SubscribeGrant> {
    const fields: Record<string, unknown> = { channel };
    if (request.data !== undefined) fields.data = request.data;
    return this.backend.call('subscribe', this.caller(true), fields, this.headers, subscribeGrantOf);
  }

  publish(channel: string, data: unknown): Promise<PublishDecision> {
    return this.backend.call('publish', this.caller(true), { channel, data }, this.headers, (result) => publishDecisionOf(result, data));
  }

  private readonly rpc = (method: string, data: unknown): Promise<unknown> =>
     this.backend.call('rpc', this.caller(true), { method, ...(data !== undefined && { data }) }, this.headers, rpcDataOf);

  private caller(withUser: boolean): ProxyCaller {
    const base = { client: this.client, transport: this.transport, protocol: this.protocol, meta: this.meta };
    return withUser ? { ...base, user: this.user() } : base;
  }
}
