/**
 * The playground's Content-Security-Policy (the console's too: one policy for both pages): only its
 * own scripts, styles and API, and images over https (fal's CDN) plus the loopback files host of a
 * simulated fal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';

describe('the playground page', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    await ensureWebBuild();
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('is served with the console\'s CSP: no inline script, images over https and from a loopback simulated fal', async () => {
    const res = await gw.app.inject({ url: '/playground' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('img-src')).toEqual(["'self'", 'https:', new URL(gw.sim.runUrl).origin]);
    expect(csp).toBe(String((await gw.app.inject({ url: '/console' })).headers['content-security-policy']));
    // The built page has no inline script for that policy to block.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});
