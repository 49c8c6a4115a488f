/**
 * Clients of the seed endpoints as the tutorials write them: a bare
 * WebSocket on `/ws` that parses every frame with `JSON.parse`, and forms
 * posted to `/auth` the way `FormData` and `URLSearchParams` send them.
 */
import WebSocket from 'ws';
import { opened } from './raw-client.js';
import type { TestServer } from './server.js';
import { waitFor } from './wait.js';

/** A message in the broadcast seed's shape. */
export interface SeedMessage {
  email: string;
  username: string;
  message: string;
}

export interface SeedClient {
  ws: WebSocket;
  /** Every text frame, as received. */
  frames: string[];
  /** Every frame parsed as the seed does (`JSON.parse(e.data)`), in order. */
  messages: SeedMessage[];
  /** Frames `JSON.parse` failed on (the seed's page would throw on them). */
  unparsable: string[];
  sawBinary: boolean;
  closed: { code: number; reason: string } | undefined;
  /** Sends a message object as the seed does (`JSON.stringify`). */
  send(message: Partial<SeedMessage> | Record<string, unknown>): void;
  /** Sends a raw text frame. */
  sendRaw(text: string): void;
  /** Waits for a message matching `match` (received after `from`, an index into `messages`). */
  waitMessage(match: (message: SeedMessage) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<SeedMessage>;
  waitClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  /** Cuts the connection without a close handshake. */
  terminate(): void;
}

/** `ws://127.0.0.1:<port>/ws`. */
export function seedUrl(ts: TestServer): string {
  return `ws://127.0.0.1:${ts.server.port}/ws`;
}

/** Opens a raw `/ws` connection (the backlog may still be arriving when this resolves). */
export async function openSeed(ts: TestServer, options: WebSocket.ClientOptions = {}): Promise<SeedClient> {
  const ws = new WebSocket(seedUrl(ts), options);
  const client: SeedClient = {
    ws,
    frames: [],
    messages: [],
    unparsable: [],
    sawBinary: false,
    closed: undefined,
    send: (message) => ws.send(JSON.stringify(message)),
    sendRaw: (text) => ws.send(text),
    waitMessage: (match, { from = 0, timeoutMs = 5000 } = {}) =>
      waitFor(() => client.messages.slice(from).find(match), { timeoutMs, message: 'a seed message' }),
    waitClose: (timeoutMs = 5000) => waitFor(() => client.closed, { timeoutMs, message: 'seed socket close' }),
    terminate: () => ws.terminate(),
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) client.sawBinary = true;
    const text = data.toString();
    client.frames.push(text);
    try {
      client.messages.push(JSON.parse(text) as SeedMessage);
    } catch {
      client.unparsable.push(text);
    }
  });
  ws.on('close', (code: number, reason: Buffer) => {
    client.closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => undefined);
  await opened(ws);
  return client;
}

/**
 * Opens a `/ws` connection and waits until its backlog has arrived, when
 * nothing is posted meanwhile: as many messages as `GET /getAllMessages?limit=50`
 * lists. `backlog` is that count: live messages start at that index.
 */
export async function connectSeed(ts: TestServer): Promise<SeedClient & { backlog: number }> {
  const before = await allMessages(ts, 50);
  const client = await openSeed(ts);
  await waitFor(() => client.messages.length >= before.length, { message: `backlog of ${before.length}` });
  return Object.assign(client, { backlog: before.length });
}

/** `GET /getAllMessages`, asserting a 200. */
export async function allMessages(ts: TestServer, limit?: number): Promise<SeedMessage[]> {
  const query = limit === undefined ? '' : `?limit=${limit}`;
  const response = await fetch(`http://127.0.0.1:${ts.server.port}/getAllMessages${query}`);
  if (response.status !== 200) throw new Error(`GET /getAllMessages answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as SeedMessage[];
}

/** An answer of `/auth`: status, body text and content type. */
export interface AuthAnswer {
  status: number;
  text: string;
  contentType: string | null;
}

/** Posts a form to `/auth` as the tutorial's `FormData` (multipart) or as a URL-encoded form. */
export async function postAuth(
  ts: TestServer,
  fields: Record<string, string>,
  encoding: 'multipart' | 'urlencoded' = 'multipart',
): Promise<AuthAnswer> {
  let body: FormData | URLSearchParams;
  if (encoding === 'multipart') {
    body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
  } else {
    body = new URLSearchParams(fields);
  }
  const response = await fetch(`http://127.0.0.1:${ts.server.port}/auth`, { method: 'POST', body });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

/** Gets a token from `/auth` for a client id, failing unless it answers 200. */
export async function authToken(ts: TestServer, clientId: string, extra: Record<string, string> = {}): Promise<string> {
  const answer = await postAuth(ts, { clientID: clientId, ...extra });
  if (answer.status !== 200) throw new Error(`/auth answered ${answer.status}: ${answer.text}`);
  return answer.text;
}
