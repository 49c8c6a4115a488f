import { Errors, ProtocolError } from '../protocol/errors.js';
import type { Logger } from '../log/logger.js';
import type { Fields } from './api-request.js';

/** A method's result object; values may be {@link RawJson} (pre-encoded publication payloads). */
export type ApiResult = Record<string, unknown>;

/**
 * One server API method, in two steps so that a request is checked whole
 * before anything happens: `parse` throws `MalformedRequest` (HTTP 400) or a
 * ProtocolError (an error in the response body); `run` acts.
 */
export interface ApiMethod<P = unknown> {
  parse(fields: Fields): P;
  run(params: P): Promise<ApiResult>;
}

/** Builds a method with its parameter type checked between the two steps. */
export function method<P>(definition: ApiMethod<P>): ApiMethod {
  return definition as ApiMethod;
}

/** The error a failed call answers: ProtocolErrors as they are; anything else is logged and answered as 100. */
export function toProtocolError(error: unknown, logger: Logger, context: Record<string, unknown>): ProtocolError {
  if (error instanceof ProtocolError) return error;
  logger.error({ err: error, ...context }, 'server api call failed');
  return Errors.internal();
}
