/**
 * A test server with a TCP proxy in front of it, for a `describe` block
 * whose tests cut clients' connections: registers the hooks that start
 * both, disconnect every SDK client and lift any block after each test,
 * and stop both at the end.
 */
import { after, afterEach, before } from 'node:test';
import { disconnectAll } from './sdk.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ProxiedServer {
  /** The server (set once the `before` hook ran). */
  readonly ts: TestServer;
  /** The proxy in front of it (set once the `before` hook ran). */
  readonly proxy: TcpProxy;
}

/** Call inside `describe`; read `ts` and `proxy` from the result inside tests. */
export function useProxiedServer(options: TestServerOptions = {}): ProxiedServer {
  const state: { ts?: TestServer; proxy?: TcpProxy } = {};
  before(async () => {
    state.ts = await startTestServer(options);
    state.proxy = await TcpProxy.start(state.ts.server.port);
  });
  afterEach(() => {
    disconnectAll();
    state.proxy?.unblock();
  });
  after(async () => {
    disconnectAll();
    await state.proxy?.close();
    await state.ts?.stop();
  });
  return {
    get ts() {
      return state.ts as TestServer;
    },
    get proxy() {
      return state.proxy as TcpProxy;
    },
  };
}
