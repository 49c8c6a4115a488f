/**
 * Cross-origin access to the HTTP-streaming, SSE and emulation endpoints.
 * The SDK calls them with `fetch` in CORS mode (and EventSource), so a page
 * served from another origin the operator allowed needs the CORS answers;
 * origins are checked with the same rules as WebSocket upgrades.
 */
import type { FastifyInstance } from 'fastify';

/** How long a browser may reuse a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * The headers that let the page at `origin` read a response (none for
 * requests without Origin). Never with credentials: the SDK sends none
 * across origins (`credentials: 'same-origin'`), and allowing them would let
 * any allowed origin (every origin, with `*`) read a stream its visitor's
 * cookies opened through the connect proxy.
 */
export function crossOriginHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined || origin === '') return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/**
 * Answers CORS preflights (`OPTIONS`) for `path`: 204 with the allowed
 * methods and the request headers asked for, when `originAllowed` says so;
 * 403 otherwise.
 */
export function answerPreflight(
  app: FastifyInstance,
  path: string,
  methods: string,
  originAllowed: (origin: string | undefined, host: string | undefined) => boolean,
): void {
  app.options(path, async (request, reply) => {
    const origin = request.headers.origin;
    if (!originAllowed(origin, request.headers.host)) return reply.code(403).send({ error: 'origin not allowed' });
    const asked = request.headers['access-control-request-headers'];
    return reply
      .code(204)
      .headers({
        ...crossOriginHeaders(origin),
        'access-control-allow-methods': methods,
        'access-control-allow-headers': typeof asked === 'string' && asked !== '' ? asked : 'Content-Type',
        'access-control-max-age': PREFLIGHT_MAX_AGE,
      })
      .send();
  });
}
