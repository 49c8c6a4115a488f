/**
 * Errors of the web app's JSON routes (`/app/*`): every refusal is
 * `{error: "message for the user"}` with its status, and nothing from the
 * request body (which may hold a password, an email or a token) reaches a
 * message or a log line.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';

/** An answer with an error status; its message is shown to the user. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Makes `app` (a plugin context) answer errors as `{error}`: an
 * {@link HttpError}'s own message, a fixed text for framework errors, and
 * a logged server fault (without the request body) for anything else.
 */
export function answerErrorsAsJson(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500 && !(error instanceof HttpError)) {
      // Only the error: the request body may hold a password, an email or a token.
      logger.error({ err: error, path: request.routeOptions.url }, 'app route failed');
    }
    return reply.code(status).send({ error: publicMessage(error, status) });
  });
}

/** The request body as an object; `{}` when there is none. */
export function bodyOf(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'The request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** A string field of a body; undefined when absent, 400 naming the field when it is not a string. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, `${field} must be a string`);
  return value;
}

/** A string field a route cannot do without: 400 naming it when absent or not a string. */
export function requiredString(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw new HttpError(400, `${field} is required`);
  return value;
}

/**
 * What a user is told. Framework errors get a fixed text: some (a JSON syntax
 * error) quote the request body.
 */
function publicMessage(error: Error, status: number): string {
  if (error instanceof HttpError) return error.message;
  switch (status) {
    case 400:
      return 'The request body must be valid JSON';
    case 413:
      return 'The request is too large';
    case 415:
      return 'Send the request body as JSON (content-type: application/json)';
    default:
      return status >= 500 ? 'Something went wrong on the server; try again' : 'The request was refused';
  }
}
