/**
 * The backend proxy: the configured URLs, the timeout and the forwarded
 * header names, shared by every connection of the server. It turns a call's
 * outcome into what the client gets: the backend's result, its own error or
 * disconnect, or, when the backend fails (down, slow, non-2xx, malformed), a
 * temporary internal error and a warning in the log that names the proxy and
 * the problem, never a header, a token or the body.
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, ProxyCallOutcome } from '../ops/metrics.js';
import { DisconnectError, Errors } from '../protocol/errors.js';
import { forwardedHeaders, withEmulatedHeaders, type ForwardedHeaders } from './forwarded-headers.js';
import { callProxy, FAILED, ProxyFailure } from './proxy-call.js';
import { requestBody, type ProxyCaller } from './proxy-shapes.js';
import { SessionProxy } from './session-proxy.js';

/** The kinds of call, named as Centrifugo names its proxies. */
export type ProxyKind = 'connect' | 'refresh' | 'subscribe' | 'publish' | 'rpc';

export class BackendProxy {
  private readonly urls: Readonly<Record<ProxyKind, string>>;
  private readonly timeoutMs: number;
  private readonly headerNames: readonly string[];
  private readonly emulatedHeaderNames: readonly string[];
  /** Whether a connection keeps its forwarded headers after connect: only when a later call sends them. */
  readonly keepsHeaders: boolean;

  private constructor(
    config: Config,
    private readonly logger: Logger,
    private readonly metrics: Metrics | undefined,
  ) {
    this.urls = {
      connect: config.connectProxyUrl,
      refresh: config.refreshProxyUrl,
      subscribe: config.subscribeProxyUrl,
      publish: config.publishProxyUrl,
      rpc: config.rpcProxyUrl,
    };
    this.timeoutMs = Math.max(1, Math.round(config.proxyTimeout * 1000));
    this.headerNames = config.proxyHttpHeaders;
    this.emulatedHeaderNames = config.proxyEmulatedHeaders;
    this.keepsHeaders = (this.headerNames.length > 0 || this.emulatedHeaderNames.length > 0) && (['refresh', 'subscribe', 'publish', 'rpc'] as const).some((kind) => this.urls[kind] !== '');
  }

  /** The server's proxy, or undefined when no proxy URL is configured (then nothing of this runs per connection). */
  static fromConfig(config: Config, logger: Logger, metrics?: Metrics): BackendProxy | undefined {
    const any = [config.connectProxyUrl, config.refreshProxyUrl, config.subscribeProxyUrl, config.publishProxyUrl, config.rpcProxyUrl].some((url) => url !== '');
    return any ? new BackendProxy(config, logger, metrics) : undefined;
  }

  /** Whether calls of this kind are configured. */
  has(kind: ProxyKind): boolean {
    return this.urls[kind] !== '';
  }

  /** The proxy state of one new connection, with the configured headers of the request that opened it. */
  forSession(client: string, request: IncomingMessage | undefined, user: () => string, transport = 'websocket', protocol = 'json'): SessionProxy {
    const headers = request && this.headerNames.length > 0 ? forwardedHeaders(this.headerNames, request.headers) : undefined;
    return new SessionProxy(this, client, headers, user, transport, protocol);
  }

  /** `headers` with the configured ones of the client's emulated headers (see `withEmulatedHeaders`). */
  addEmulatedHeaders(headers: ForwardedHeaders | undefined, emulated: Readonly<Record<string, string>> | undefined): ForwardedHeaders | undefined {
    return withEmulatedHeaders(headers, this.emulatedHeaderNames, emulated);
  }

  /**
   * Calls the backend and reads its result with `read`.
   * @throws ProtocolError the backend's error (codes 100–1999), or 100
   * (temporary) when the call failed or `read` found the result malformed;
   * DisconnectError for the backend's disconnect. With `failed: 'return'`,
   * a failure resolves to {@link FAILED} instead (logged the same way).
   */
  async call<T>(kind: ProxyKind, caller: ProxyCaller, fields: Record<string, unknown>, headers: ForwardedHeaders | undefined, read: (result: Record<string, unknown>) => T): Promise<T>;
  async call<T>(kind: ProxyKind, caller: ProxyCaller, fields: Record<string, unknown>, headers: ForwardedHeaders | undefined, read: (result: Record<string, unknown>) => T, failed: 'return'): Promise<T | typeof FAILED>;
  async call<T>(
    kind: ProxyKind,
    caller: ProxyCaller,
    fields: Record<string, unknown>,
    headers: ForwardedHeaders | undefined,
    read: (result: Record<string, unknown>) => T,
    failed?: 'return',
  ): Promise<T | typeof FAILED> {
    const started = performance.now();
    let outcome: ProxyCallOutcome = 'failed';
    try {
      const answer = await callProxy(this.urls[kind], requestBody(caller, fields), headers, this.timeoutMs);
      if (answer.kind === 'disconnect') {
        outcome = 'disconnect';
        throw new DisconnectError(answer.disconnect);
      }
      if (answer.kind === 'error') {
        outcome = 'error';
        throw answer.error;
      }
      const value = read(answer.result);
      outcome = 'result';
      return value;
    } catch (error) {
      if (!(error instanceof ProxyFailure)) throw error;
      this.logger.warn({ proxy: kind, client: caller.client, problem: error.problem, status: error.status, detail: error.message }, 'backend proxy call failed');
      if (failed === 'return') return FAILED;
      // The detail (addresses, statuses) is for the operator's log, not for clients.
      throw Errors.internal(`${kind} proxy failed`);
    } finally {
      this.metrics?.proxyCall(kind, outcome, performance.now() - started);
    }
  }
}
