/**
 * The operator console and the playground: static pages built by `npm run build` (web/, Vite) into
 * dist/web. The HTML is served with `no-cache` (it names the current hashed assets); the assets
 * under /assets/ carry a content hash and are immutable for a year. `GET /` leads to the console.
 *
 * dist/web is found from the project root, three levels above this file both as src/http/routes
 * (tests, tsx) and as dist/http/routes (the build). A gateway started without the build answers the
 * pages with 503 and says how to build them, instead of a bare 404.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from '../../errors.js';

export const WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const PAGES = { console: 'console/index.html', playground: 'playground/index.html' } as const;

/**
 * The playground's Content-Security-Policy: its own scripts, styles and API only, and images from
 * fal's CDN (`https://v3.fal.media/files/…`, docs/fal-protocol.md §1.5). When FAL_RUN_URL is not
 * fal's (the simulated fal of the demo and the tests), that host serves the files, so it is added.
 */
export function playgroundCsp(falRunUrl: string | undefined): string {
  const images = ["'self'", 'https://fal.media', 'https://*.fal.media'];
  if (falRunUrl !== undefined && new URL(falRunUrl).origin !== 'https://fal.run') images.push(new URL(falRunUrl).origin);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${images.join(' ')}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function loadPage(root: string, file: string): Buffer | null {
  const path = `${root}${file}`;
  return existsSync(path) ? readFileSync(path) : null;
}

export async function webRoutes(app: FastifyInstance, root = WEB_ROOT, opts: { falRunUrl?: string } = {}): Promise<void> {
  const html = { console: loadPage(root, PAGES.console), playground: loadPage(root, PAGES.playground) };
  const send = (page: keyof typeof PAGES) => (_req: unknown, reply: FastifyReply) => {
    const body = html[page];
    if (body === null) throw new GatewayError('service_unavailable', 'The console is not built: run `npm run build`');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(body);
  };
  const hidden = { schema: { hide: true } };

  app.get('/', hidden, (_req, reply) => reply.redirect('/console', 302));
  app.get('/console', hidden, send('console'));
  // Client-side routes (/console/keys, …) load the same page.
  app.get('/console/*', hidden, send('console'));
  const csp = playgroundCsp(opts.falRunUrl);
  app.get('/playground', hidden, (req, reply) => send('playground')(req, reply.header('content-security-policy', csp)));

  if (existsSync(`${root}assets`)) {
    await app.register(fastifyStatic, {
      root: `${root}assets`,
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      list: false,
      immutable: true,
      maxAge: '365d',
      schemaHide: true,
    });
  }
}
