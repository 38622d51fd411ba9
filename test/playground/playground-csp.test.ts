/**
 * The playground's Content-Security-Policy: only its own scripts, styles and API, and images from
 * fal's CDN, plus the files host of a non-fal FAL_RUN_URL (the simulated fal serves images there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playgroundCsp } from '../../src/http/routes/web.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';

describe('the playground page', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    await ensureWebBuild();
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('is served with a CSP that allows no inline script and images only from fal and the configured fal host', async () => {
    const res = await gw.app.inject({ url: '/playground' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('img-src')).toEqual(["'self'", 'https://fal.media', 'https://*.fal.media', new URL(gw.sim.runUrl).origin]);
    // The built page has no inline script for that policy to block.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it("adds no extra image host when FAL_RUN_URL is fal's own", () => {
    expect(playgroundCsp('https://fal.run')).toContain("img-src 'self' https://fal.media https://*.fal.media;");
    expect(playgroundCsp('http://127.0.0.1:9000/')).toContain('https://*.fal.media http://127.0.0.1:9000;');
  });
});
