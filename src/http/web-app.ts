import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Headers for the web app's pages. The policy only lets the app run its own
 * scripts and talk to its own origin, so even a rendering bug cannot run
 * injected script; avatars may come from Gravatar.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https://www.gravatar.com https://secure.gravatar.com",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Paths that belong to the server, never to the app's client-side routes. */
const SERVER_PATHS = /^\/(app|api|connection|health|ready|ws|auth|getAllMessages)(\/|$)/;

/**
 * Serves the built web app (`dist/web`) at `/`. Unknown GET paths that are
 * not server endpoints get `index.html`, so a reload on any app URL works.
 * Returns false when the app has not been built.
 */
export async function registerWebApp(app: FastifyInstance, root: string): Promise<boolean> {
  if (!existsSync(join(root, 'index.html'))) return false;
  app.addHook('onSend', async (request, reply) => {
    if (!SERVER_PATHS.test(request.url)) reply.headers(SECURITY_HEADERS);
  });
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: ['index.html'],
    // Hashed asset names change with their content; index.html must always be revalidated.
    setHeaders: (response, path) => {
      response.setHeader('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.setNotFoundHandler((request, reply) => {
    if (request.method === 'GET' && !SERVER_PATHS.test(request.url) && (request.headers.accept ?? '').includes('text/html')) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return reply.code(404).send({ error: 'not found' });
  });
  return true;
}
