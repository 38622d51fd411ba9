/**
 * Origin-bound credentials on a page the gateway serves itself: browsers send no Origin header on
 * a same-origin GET, only `Sec-Fetch-Site: same-origin`, which the gateway reads as its own origin
 * (PUBLIC_URL's when set). Anything else without an Origin stays refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const usage = (gw: TestGateway, key: string, headers: Record<string, string>) =>
  gw.app.inject({ method: 'GET', url: '/v1/usage', headers: { authorization: `Key ${key}`, ...headers } });

describe('a publishable key bound to the gateway origin', () => {
  let gw: TestGateway;
  let own: string;
  let elsewhere: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    own = (await gw.createKey({ name: 'own-page', kind: 'publishable', allowed_origins: ['http://gateway.test'] })).key;
    elsewhere = (await gw.createKey({ name: 'other-page', kind: 'publishable', allowed_origins: ['https://app.example.com'] })).key;
  });
  afterAll(() => gw.close());

  it('is accepted on a same-origin read the browser sends without an Origin', async () => {
    const res = await usage(gw, own, { host: 'gateway.test', 'sec-fetch-site': 'same-origin' });
    expect(res.statusCode).toBe(200);
  });

  it('is refused without an Origin when the browser says the call is cross-site or same-site, or says nothing', async () => {
    for (const site of ['cross-site', 'same-site', 'none', undefined]) {
      const res = await usage(gw, own, { host: 'gateway.test', ...(site ? { 'sec-fetch-site': site } : {}) });
      expect(res.statusCode, String(site)).toBe(403);
    }
  });

  it('is refused on a same-origin read of a gateway whose origin the key does not list', async () => {
    const res = await usage(gw, elsewhere, { host: 'gateway.test', 'sec-fetch-site': 'same-origin' });
    expect(res.statusCode).toBe(403);
    expect(res.statusCode).toBe((await usage(gw, own, { host: 'other.test', 'sec-fetch-site': 'same-origin' })).statusCode);
  });

  it('still goes by the Origin header when the browser sends one', async () => {
    expect((await usage(gw, own, { host: 'gateway.test', origin: 'http://gateway.test' })).statusCode).toBe(200);
    expect((await usage(gw, own, { host: 'gateway.test', origin: 'https://evil.example.net', 'sec-fetch-site': 'same-origin' })).statusCode).toBe(403);
  });
});

describe('behind a proxy, with PUBLIC_URL', () => {
  let gw: TestGateway;
  let key: string;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { PUBLIC_URL: 'https://gw.example.com' } });
    key = (await gw.createKey({ name: 'own-page', kind: 'publishable', allowed_origins: ['https://gw.example.com'] })).key;
  });
  afterAll(() => gw.close());

  it("takes PUBLIC_URL's origin as the gateway's own, whatever Host the proxy forwards", async () => {
    expect((await usage(gw, key, { host: '10.0.0.7:8787', 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
  });
});
