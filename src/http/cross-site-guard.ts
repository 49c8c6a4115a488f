/**
 * Keeps other sites from using the `/app` routes with a visitor's cookie.
 * SameSite=Strict already keeps the cookie off their requests; this also
 * refuses, before any work, a state-changing request that a browser marks
 * as coming from another origin, and one that is not JSON (a plain HTML
 * form can only send form encodings or text, never JSON).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isOriginAllowed } from '../transport/origin.js';
import { HttpError } from './app-errors.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Adds the checks to every route of `app` (a plugin context): for POST,
 * PUT, PATCH and DELETE, 403 when the `Origin` header is present and is
 * neither this server's own nor in `allowedOrigins`; for those with a body
 * (all but DELETE), 415 unless the content type is `application/json`.
 */
export function refuseCrossSiteWrites(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  app.addHook('onRequest', async (request) => {
    if (!STATE_CHANGING.has(request.method)) return;
    if (!isOriginAllowed(originOf(request), request.headers.host, allowedOrigins)) {
      throw new HttpError(403, 'Requests from other sites are refused');
    }
    if (request.method !== 'DELETE' && !isJson(request.headers['content-type'])) {
      throw new HttpError(415, 'Send the request body as JSON (content-type: application/json)');
    }
  });
}

function originOf(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  // Browsers send "null" from sandboxed frames and some redirects: that is not this server.
  return origin === 'null' ? 'null://' : origin;
}

function isJson(contentType: string | undefined): boolean {
  return typeof contentType === 'string' && contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}
