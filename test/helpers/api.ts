/**
 * Calling the server HTTP API of a test server with `fetch`, as a backend
 * would: `POST /api/<method>` with the API key.
 */
import assert from 'node:assert/strict';
import { TEST_API_KEY, type TestServer } from './server.js';

/** A server to call: a test server in this process, or any node by its port (a cluster node). */
export type ApiTarget = TestServer | { readonly port: number };

function portOf(target: ApiTarget): number {
  return 'server' in target ? target.server.port : target.port;
}

export interface ApiAnswer<T = any> {
  status: number;
  /** Parsed JSON body; undefined when the body is empty. */
  body: T;
  /** The body as received. */
  text: string;
  headers: Headers;
}

export interface ApiCallOptions {
  /** Headers to send instead of `X-API-Key: TEST_API_KEY` (plus a JSON Content-Type). */
  headers?: Record<string, string>;
  /** A raw body to send as is instead of JSON-encoding `body`. */
  raw?: string;
}

/** `POST /api/<method>`; `body` is JSON-encoded unless `options.raw` is given. */
export async function apiCall<T = any>(ts: ApiTarget, method: string, body: unknown = {}, options: ApiCallOptions = {}): Promise<ApiAnswer<T>> {
  const headers = options.headers ?? { 'X-API-Key': TEST_API_KEY, 'Content-Type': 'application/json' };
  const response = await fetch(`http://127.0.0.1:${portOf(ts)}/api/${method}`, {
    method: 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

/** Calls a method and returns its `result`, failing the test on anything but `200 {"result": ...}`. */
export async function apiResult<T = any>(ts: ApiTarget, method: string, body: unknown = {}): Promise<T> {
  const answer = await apiCall(ts, method, body);
  assert.equal(answer.status, 200, `${method}: HTTP ${answer.status} ${answer.text}`);
  assert.ok(answer.body && 'result' in answer.body, `${method}: expected a result, got ${answer.text}`);
  return answer.body.result as T;
}

/** Calls a method and returns its `error`, failing the test on anything but `200 {"error": ...}`. */
export async function apiError(ts: ApiTarget, method: string, body: unknown = {}): Promise<{ code: number; message: string }> {
  const answer = await apiCall(ts, method, body);
  assert.equal(answer.status, 200, `${method}: HTTP ${answer.status} ${answer.text}`);
  assert.ok(answer.body && 'error' in answer.body, `${method}: expected an error, got ${answer.text}`);
  return answer.body.error;
}

/**
 * Publishes `count` payloads (`payload(n)` for n = 1…count) to a channel
 * through `POST /api/publish`, `concurrency` requests at a time, as a busy
 * backend would. Resolves with each one's result (`{offset, epoch}` for a
 * channel with history), index n-1 for payload n.
 */
export async function apiPublishMany<T = { offset: number; epoch: string }>(
  ts: ApiTarget,
  channel: string,
  count: number,
  payload: (n: number) => unknown,
  concurrency = 8,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next <= count) {
      const n = next++;
      results[n - 1] = await apiResult<T>(ts, 'publish', { channel, data: payload(n) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * Posts chat messages into an existing room or DM through the server API
 * (`batch` of `publish`, in order, `size` per request): the fast way to give
 * a conversation a long history. Each message is authored by `username`.
 */
export async function postChatMessages(ts: ApiTarget, channel: string, texts: readonly string[], username = 'Archivist', size = 250): Promise<void> {
  for (let i = 0; i < texts.length; i += size) {
    const commands = texts.slice(i, i + size).map((text) => ({ publish: { channel, data: { text, username } } }));
    const answer = await apiCall(ts, 'batch', { commands, parallel: false });
    assert.equal(answer.status, 200, `batch: HTTP ${answer.status} ${answer.text}`);
    const replies: Array<{ error?: unknown }> = answer.body.replies;
    assert.equal(replies.length, commands.length);
    assert.deepEqual(replies.filter((reply) => reply.error), [], 'every message was posted');
  }
}
