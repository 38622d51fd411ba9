/** The session cookie is Secure exactly when the request came over https, as a trusted proxy reports it. */
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
