import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBody } from '../errors.ts';
import type { AppContext } from '../options.ts';

/** `dist/web` of this package, whether the service runs from `src/` (tests) or `dist/`. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const HIDE = { schema: { hide: true } } as const;

/**
 * The built web front end (`npm run build`): `/billing` and `/admin` always, the copilot at `/`
 * in demo mode, `/widget.js` (and `/widget.mjs`) for other apps' pages. Everything is bundled,
 * so these pages make no third-party requests.
 */
export async function webRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const root = deps.options.webRoot ?? DEFAULT_WEB_ROOT;
  const built = existsSync(join(root, 'index.html'));
  const missing = (reply: FastifyReply) =>
    reply.status(503).send(errorBody('unavailable', `The web front end is not built (${root}); run \`npm run build\``));

  app.get('/web-config.json', HIDE, async () => ({ success: true, demo: deps.options.demo }));
  if (!built) {
    for (const path of ['/billing', '/admin', '/widget.js', '/widget.mjs', ...(deps.options.demo ? ['/'] : [])]) {
      app.get(path, HIDE, async (_request, reply) => missing(reply));
    }
    return;
  }
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
    schemaHide: true,
  });
  const page = (path: string, file: string, cache = 'no-cache') =>
    app.get(path, HIDE, async (_request, reply) => reply.header('cache-control', cache).sendFile(file, root));
  page('/billing', 'billing.html');
  page('/admin', 'admin.html');
  page('/favicon.svg', 'favicon.svg', 'public, max-age=86400');
  // Widgets load cross-origin through a script tag: no CORS needed, but fetched fresh.
  page('/widget.js', 'widget.js');
  page('/widget.mjs', 'widget.mjs');
  app.get('/favicon.ico', HIDE, async (_request, reply) => reply.redirect('/favicon.svg', 301));
  if (deps.options.demo) page('/', 'index.html');
}
