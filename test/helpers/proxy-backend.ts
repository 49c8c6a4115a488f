/**
 * A backend for the backend proxy tests: a real HTTP server on port 0 that
 * records every call (path, headers, JSON body) and answers with what the
 * test's handler returns for it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BackendCall {
  /** `/connect`, `/refresh`, `/subscribe`, `/publish` or `/rpc` (the proxy URLs the tests configure). */
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
}

/** What the handler answers: a JSON body (status 200), or a status and raw text, or `'hang'` (never answers). */
export type BackendAnswer = Record<string, unknown> | { status: number; text: string } | 'hang';

export interface TestBackend {
  /** `http://127.0.0.1:port` */
  url: string;
  calls: BackendCall[];
  /** Calls made to one path, oldest first. */
  callsTo(path: string): BackendCall[];
  /** Replaces the answers. */
  answer(handler: (call: BackendCall) => BackendAnswer): void;
  close(): Promise<void>;
}

export async function startBackend(handler: (call: BackendCall) => BackendAnswer = () => ({ result: {} })): Promise<TestBackend> {
  let answer = handler;
  const calls: BackendCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call: BackendCall = { path: request.url ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') };
      calls.push(call);
      const reply = answer(call);
      if (reply === 'hang') return;
      if ('status' in reply && typeof reply.status === 'number' && 'text' in reply) {
        response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.text);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (path) => calls.filter((call) => call.path === path),
    answer: (next) => {
      answer = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
