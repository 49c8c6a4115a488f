/**
 * A bare WebSocket client speaking the protocol by hand, for tests of what
 * SDKs never send: malformed frames, oversized messages, floods, silence.
 */
import WebSocket from 'ws';
import { waitFor } from './wait.js';

export interface RawClient {
  ws: WebSocket;
  /** Every JSON line received, in order. */
  received: Record<string, any>[];
  /** Whether any frame arrived as binary. */
  sawBinary: boolean;
  /** JSON lines per WebSocket frame received, in order. */
  linesPerFrame: number[];
  /** Close code and reason once closed. */
  closed: { code: number; reason: string } | undefined;
  send(text: string): void;
  command(id: number, method: string, body: unknown): void;
  reply(id: number, timeoutMs?: number): Promise<Record<string, any>>;
  waitClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function openRaw(url: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
  const ws = new WebSocket(url, options);
  const client: RawClient = {
    ws,
    received: [],
    sawBinary: false,
    linesPerFrame: [],
    closed: undefined,
    send: (text) => ws.send(text),
    command: (id, method, body) => ws.send(JSON.stringify({ id, [method]: body })),
    reply: (id, timeoutMs) =>
      waitFor(() => client.received.find((line) => line.id === id), { timeoutMs, message: `reply ${id}` }),
    waitClose: (timeoutMs) => waitFor(() => client.closed, { timeoutMs, message: 'close' }),
    close: () => ws.terminate(),
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) client.sawBinary = true;
    const lines = data.toString().split('\n').filter((line) => line.trim());
    client.linesPerFrame.push(lines.length);
    for (const line of lines) client.received.push(JSON.parse(line));
  });
  ws.on('close', (code: number, reason: Buffer) => {
    client.closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => undefined);
  await opened(ws);
  return client;
}

/** Resolves once the socket is open; rejects on an error or a refused upgrade (the error carries the HTTP `status`). */
export function opened(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** Opens a raw client and completes the connect handshake. */
export async function connectRaw(url: string, token: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
  const client = await openRaw(url, options);
  client.command(1, 'connect', { token, name: 'raw-test' });
  const reply = await client.reply(1);
  if (!reply.connect) throw new Error(`connect failed: ${JSON.stringify(reply)}`);
  return client;
}

/**
 * A way to ask a connected raw client one command at a time: ids count up
 * from `firstId` (above the connect command's), and each call resolves with
 * the command's reply.
 */
export function commandAsker(client: RawClient, firstId = 10, timeoutMs = 10_000): (method: string, body: unknown) => Promise<Record<string, any>> {
  let nextId = firstId;
  return (method, body) => {
    const id = nextId++;
    client.command(id, method, body);
    return client.reply(id, timeoutMs);
  };
}

/** Answers the server's pings (empty JSON lines) with pongs, as SDKs do; resolves nothing, counts the pings. */
export function answerPings(client: RawClient): { readonly pings: number } {
  const counter = { pings: 0 };
  client.ws.on('message', (data: Buffer) => {
    for (const line of data.toString().split('\n')) {
      if (line !== '{}') continue;
      counter.pings++;
      client.send('{}');
    }
  });
  return counter;
}
