/**
 * The console and playground pages are served by the gateway itself: HTML never cached, hashed
 * assets immutable, `/` leading to the console, and a clear 503 when the pages were not built.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandlers } from '../../src/http/reply-errors.js';
import { webRoutes } from '../../src/http/routes/web.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';

describe('the built pages', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    await ensureWebBuild();
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('redirects / to /console', async () => {
    const res = await gw.app.inject({ url: '/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/console');
  });

  it('serves both pages with no-cache, and their hashed assets as immutable', async () => {
    for (const page of ['/console', '/console/keys', '/playground']) {
      const res = await gw.app.inject({ url: page });
      expect(res.statusCode, page).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    const html = (await gw.app.inject({ url: '/console' })).body;
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const res = await gw.app.inject({ url: asset ?? '' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toMatch(/immutable/);
    expect(res.headers['cache-control']).toMatch(/max-age=31536000/);
  });

  it('answers an unknown asset with 404, not the page', async () => {
    const res = await gw.app.inject({ url: '/assets/nope-123.js' });
    expect(res.statusCode).toBe(404);
  });
});

describe('a gateway started without the build', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fgw-noweb-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('answers the pages with 503 and says how to build them', async () => {
    const app = Fastify();
    registerErrorHandlers(app);
    await webRoutes(app, `${dir}/`);
    const res = await app.inject({ url: '/console' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await app.close();
  });
});
