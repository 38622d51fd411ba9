/**
 * The operator console and the playground: static pages built by `npm run build` (web/, Vite) into
 * dist/web. The HTML is served with `no-cache` (it names the current hashed assets); the assets
 * under /assets/ carry a content hash and are immutable for a year. `GET /` leads to the console.
 *
 * dist/web is found from the project root, three levels above this file both as src/http/routes
 * (tests, tsx) and as dist/http/routes (the build). A gateway started without the build answers the
 * pages with 503 and says how to build them, instead of a bare 404.
 *
 * Both pages carry a Content-Security-Policy: scripts, styles and calls only from the gateway itself
 * (Vite emits no inline script), images also from https: (fal's CDN hosts the generated images) and
 * from the loopback origin of a simulated fal (tests and `npm run demo`); never data: images, so a
 * `sync_mode` body is never rendered. No framing, no plugins, no <base> rewriting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from '../../errors.js';

export const WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const PAGES = { console: 'console/index.html', playground: 'playground/index.html' } as const;

function loadPage(root: string, file: string): Buffer | null {
  const path = `${root}${file}`;
  return existsSync(path) ? readFileSync(path) : null;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The origins of `urls` that are plain-http loopback (a simulated fal), for the pages' img-src. */
export function loopbackImageOrigins(urls: readonly string[]): string[] {
  const out = new Set<string>();
  for (const u of urls) {
    try {
      const p = new URL(u);
      if (p.protocol === 'http:' && LOOPBACK.has(p.hostname)) out.add(p.origin);
    } catch {
      // Not a URL: config validation reports it; the CSP just leaves it out.
    }
  }
  return [...out];
}

export function contentSecurityPolicy(imageOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' https: ${imageOrigins.join(' ')}`.trimEnd(),
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function webRoutes(app: FastifyInstance, root = WEB_ROOT, imageOrigins: readonly string[] = []): Promise<void> {
  // One policy for both pages: they load the same bundle graph and show images from the same hosts.
  const csp = contentSecurityPolicy(imageOrigins);
  const html = { console: loadPage(root, PAGES.console), playground: loadPage(root, PAGES.playground) };
  const send = (page: keyof typeof PAGES) => (_req: unknown, reply: FastifyReply) => {
    const body = html[page];
    if (body === null) throw new GatewayError('service_unavailable', 'The console is not built: run `npm run build`');
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(body);
  };
  const hidden = { schema: { hide: true } };

  app.get('/', hidden, (_req, reply) => reply.redirect('/console', 302));
  app.get('/console', hidden, send('console'));
  // Client-side routes (/console/keys, …) load the same page.
  app.get('/console/*', hidden, send('console'));
  app.get('/playground', hidden, send('playground'));

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
