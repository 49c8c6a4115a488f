/**
 * An identity provider for tests: signing keys made with `jose`, a JSON Web
 * Key Set served by `node:http` on port 0 that counts its requests, can be
 * rotated, and can be taken down and brought back on the same port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A signing key of the test provider. */
export interface ProviderKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  /** The public JWK as published (with `kid`, `alg`, `use`). */
  readonly jwk: JWK;
}

/** Makes a key pair for `alg` whose public half can be published under `kid`. */
export async function providerKey(alg: string, kid: string): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

/** Signs `claims` with `key`, its `alg` and `kid` in the header (`kid: null` leaves it out). */
export function signWith(key: ProviderKey, claims: Record<string, unknown>, header: { kid?: string | null; typ?: string } = {}): Promise<string> {
  const kid = header.kid === undefined ? key.kid : header.kid;
  const protectedHeader = { alg: key.alg, typ: header.typ ?? 'JWT', ...(kid === null ? {} : { kid }) };
  return new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

export interface JwksServer {
  /** `http://127.0.0.1:PORT/jwks` */
  readonly url: string;
  /** Requests the key set endpoint got so far. */
  readonly requests: number;
  /** Publishes these keys from now on. */
  publish(keys: readonly ProviderKey[]): void;
  /** Answers every request with this status (e.g. 503) until {@link answer} is called with 200. */
  answer(status: number): void;
  /** Stops listening: requests are refused at the TCP level. */
  down(): Promise<void>;
  /** Listens again on the same port (nothing when it listens). */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a key set server publishing `keys`. */
export async function startJwksServer(keys: readonly ProviderKey[]): Promise<JwksServer> {
  let published = keys;
  let status = 200;
  let requests = 0;
  let port = 0;
  let server: Server | undefined;

  const listen = async (): Promise<void> => {
    if (server) return;
    const next = createServer((_request, response) => {
      requests++;
      if (status !== 200) {
        response.writeHead(status).end('unavailable');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published.map((key) => key.jwk) }));
    });
    next.keepAliveTimeout = 100;
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    port = (next.address() as AddressInfo).port;
    server = next;
  };
  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (!current) return;
    current.closeAllConnections();
    await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    get requests() {
      return requests;
    },
    publish(next) {
      published = next;
    },
    answer(next) {
      status = next;
    },
    down: stop,
    up: listen,
    close: stop,
  };
}
