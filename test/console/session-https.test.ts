/**
 * The session cookie is Secure when the request came over https (as a trusted proxy reports it) or
 * PUBLIC_URL is https; a dead session cookie on the admin API is cleared and locks nobody out.
 */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
afterEach(async () => {
  await gw.close();
});

const signIn = (headers: Record<string, string>) =>
  gw.app.inject({ method: 'POST', url: '/console/api/session', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify({ credential: gw.adminToken }) });

it('sets Secure behind a trusted proxy that says https, and not for plain http', async () => {
  gw = await startTestGateway({ env: { TRUST_PROXY: '127.0.0.1' } });
  const https = await signIn({ 'x-forwarded-proto': 'https', origin: 'https://gateway.example', host: 'gateway.example', 'x-forwarded-host': 'gateway.example' });
  expect(https.statusCode).toBe(200);
  expect(https.headers['set-cookie']).toMatch(/^fgw_console=[0-9A-Za-z]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
  const plain = await signIn({});
  expect(plain.headers['set-cookie']).toMatch(/; SameSite=Strict$/);
});

it('ignores X-Forwarded-Proto from an untrusted peer', async () => {
  gw = await startTestGateway();
  const res = await signIn({ 'x-forwarded-proto': 'https' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['set-cookie']).not.toContain('Secure');
});

it('accepts the PUBLIC_URL origin and refuses a sign-in posted from another site', async () => {
  gw = await startTestGateway({ env: { PUBLIC_URL: 'https://console.example.com' } });
  expect((await signIn({ origin: 'https://console.example.com' })).statusCode).toBe(200);
  const cross = await signIn({ origin: 'https://evil.example' });
  expect(cross.statusCode).toBe(403);
  expect(cross.json()).toMatchObject({ error_type: 'csrf_token_invalid' });
  expect(cross.headers['set-cookie']).toBeUndefined();
});

it('sets Secure when PUBLIC_URL is https although the proxy in front is not trusted', async () => {
  gw = await startTestGateway({ env: { PUBLIC_URL: 'https://console.example.com' } });
  const res = await signIn({ origin: 'https://console.example.com' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['set-cookie']).toMatch(/; SameSite=Strict; Secure$/);
});

it('answers a stale console tab 401 and clears its cookie, without locking the IP out of the client API', async () => {
  gw = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: '5' } });
  const key = (await gw.createKey({ name: 'client' })).key;
  const signedIn = await signIn({});
  const cookie = String(signedIn.headers['set-cookie']).split(';', 1)[0] ?? '';
  const csrf = signedIn.json<{ csrf_token: string }>().csrf_token;
  const out = await gw.app.inject({ method: 'DELETE', url: '/console/api/session', headers: { cookie, 'x-csrf-token': csrf } });
  expect(out.statusCode).toBe(204);
  for (let i = 0; i < 12; i++) {
    const res = await gw.app.inject({ method: 'GET', url: '/admin/usage', headers: { cookie } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['set-cookie']).toMatch(/^fgw_console=; .*Max-Age=0$/);
  }
  const client = await gw.app.inject({ method: 'GET', url: '/v1/usage', headers: { authorization: `Key ${key}` } });
  expect(client.statusCode).toBe(200);
  // A malformed cookie is a guess, and counts like a wrong credential.
  for (let i = 0; i < 6; i++) await gw.app.inject({ method: 'GET', url: '/admin/usage', headers: { cookie: 'fgw_console=not-a-session' } });
  expect((await gw.app.inject({ method: 'GET', url: '/v1/usage', headers: { authorization: `Key ${key}` } })).statusCode).toBe(429);
});
