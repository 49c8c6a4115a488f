/**
 * One backend proxy call over HTTP: POST a JSON request, read a bounded JSON
 * answer in Centrifugo's envelope (`result`, `error` or `disconnect`), within
 * a timeout. Uses Node's built-in `fetch`, whose pool keeps connections to the
 * backend alive between calls.
 */
import { customDisconnect, customDisconnectProblem, ProtocolError, type Disconnect } from '../protocol/errors.js';
import { BodyTooLarge, fetchFailureCause, readBoundedText } from '../http/outgoing-response.js';
import type { ForwardedHeaders } from './forwarded-headers.js';

/** Largest answer body read from a backend, in bytes; a longer one is a malformed answer. */
export const MAX_ANSWER_BYTES = 4_194_304;

/** Error codes a backend may answer with, passed to the client as given: the protocol's own and the application range. */
const PASSED_ERROR_CODES = { min: 100, max: 1999 } as const;
/** Close frames carry at most this many bytes of reason; a longer backend reason is replaced. */
const BACKEND_DISCONNECT_REASON = 'disconnected by the backend';

/** Why a call gave no usable answer. */
export type ProxyProblem = 'unreachable' | 'timeout' | 'status' | 'malformed';

/** A call that gave no usable answer; its message names the problem and never holds a header or the body. */
export class ProxyFailure extends Error {
  constructor(
    readonly problem: ProxyProblem,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProxyFailure';
  }
}

/** What `BackendProxy.call` resolves to when asked to return a failure rather than throw it. */
export const FAILED = Symbol('backend proxy call failed');

/** A backend's answer: a result (possibly empty), or the error or disconnect it chose for the client. */
export type ProxyAnswer =
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; error: ProtocolError }
  | { kind: 'disconnect'; disconnect: Disconnect };

/**
 * Posts `body` (JSON text) to `url` with the forwarded headers.
 * @throws ProxyFailure when the backend cannot be reached, does not answer
 * within `timeoutMs`, answers a non-2xx status, or answers something other
 * than the envelope.
 */
export async function callProxy(url: string, body: string, headers: ForwardedHeaders | undefined, timeoutMs: number): Promise<ProxyAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: headers === undefined ? { 'content-type': 'application/json' } : [...headers.map(([name, value]) => [name, value]), ['content-type', 'application/json']],
      body,
      signal,
      redirect: 'error',
    });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => undefined);
      throw new ProxyFailure('status', `the backend answered HTTP ${response.status}`, response.status);
    }
    try {
      text = await readBoundedText(response, MAX_ANSWER_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) throw new ProxyFailure('malformed', `the backend ${error.message}`);
      throw error;
    }
  } catch (error) {
    if (error instanceof ProxyFailure) throw error;
    if (signal.aborted) throw new ProxyFailure('timeout', `the backend did not answer within ${timeoutMs} ms`);
    throw new ProxyFailure('unreachable', `the backend could not be reached (${fetchFailureCause(error)})`);
  }
  return parseAnswer(text);
}



/** Reads Centrifugo's answer envelope; a `disconnect` wins over an `error`, which wins over a `result`. */
function parseAnswer(text: string): ProxyAnswer {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ProxyFailure('malformed', 'the backend answered something that is not JSON');
  }
  if (!isRecord(answer)) throw new ProxyFailure('malformed', 'the backend answered JSON that is not an object');
  if (answer.disconnect !== undefined && answer.disconnect !== null) return { kind: 'disconnect', disconnect: disconnectOf(answer.disconnect) };
  if (answer.error !== undefined && answer.error !== null) return { kind: 'error', error: errorOf(answer.error) };
  const result = answer.result ?? {};
  if (!isRecord(result)) throw new ProxyFailure('malformed', 'the backend answered a result that is not an object');
  return { kind: 'result', result };
}

function errorOf(value: unknown): ProtocolError {
  if (!isRecord(value) || !Number.isInteger(value.code)) throw new ProxyFailure('malformed', 'the backend answered an error without an integer code');
  const code = value.code as number;
  if (code < PASSED_ERROR_CODES.min || code > PASSED_ERROR_CODES.max) {
    throw new ProxyFailure('malformed', `the backend answered error code ${code}, outside ${PASSED_ERROR_CODES.min}–${PASSED_ERROR_CODES.max}`);
  }
  const message = typeof value.message === 'string' ? value.message : '';
  return new ProtocolError(code, message, value.temporary === true);
}

function disconnectOf(value: unknown): Disconnect {
  if (!isRecord(value) || !Number.isInteger(value.code)) throw new ProxyFailure('malformed', 'the backend answered a disconnect without an integer code');
  const code = value.code as number;
  const reason = typeof value.reason === 'string' ? value.reason : '';
  if (customDisconnectProblem(code, BACKEND_DISCONNECT_REASON)) {
    throw new ProxyFailure('malformed', `the backend answered disconnect code ${code}, outside 3000–4999`);
  }
  // A reason that does not fit a close frame, or that the SDK would read as JSON advice, is replaced rather than sent.
  return customDisconnect(code, reason !== '' && !customDisconnectProblem(code, reason) ? reason : BACKEND_DISCONNECT_REASON);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
