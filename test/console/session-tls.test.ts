/** Over the gateway's own TLS (TLS_CERT_FILE / TLS_KEY_FILE), the session cookie is Secure and works. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { memoryStores } from '../../src/store/stores.js';
import { createFalUpstream, type FalUpstream } from '../../src/upstream/fal-upstream.js';

const ADMIN = 'admin-token-for-session-tls';
const dir = mkdtempSync(join(tmpdir(), 'fgw-session-tls-'));
let app: FastifyInstance;
let upstream: FalUpstream;
let url: string;
let dispatcher: Agent;

beforeAll(async () => {
  // A self-signed leaf for 127.0.0.1, trusted by this test's client only.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'], { cwd: dir, stdio: 'pipe' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const config = loadConfig({ FAL_KEY: 'fal_session_tls', ADMIN_TOKEN: ADMIN, PORT: '0', LOG_LEVEL: 'silent' });
  // fal is never called here: only the session and admin routes are.
  upstream = createFalUpstream({ runUrl: config.falRunUrl, queueUrl: config.falQueueUrl, falKey: 'fal_session_tls', userAgent: 'fal-gateway/test' });
  app = await buildApp({ config, stores: memoryStores(), upstream, logger: false, https: { cert, key: readFileSync(join(dir, 'key.pem')) } });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  dispatcher = new Agent({ connect: { ca: cert } });
}, 30_000);
afterAll(async () => {
  await app.close();
  await upstream.close();
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

it('sets a Secure cookie over https that then authenticates a state-changing admin call from the same origin', async () => {
  expect(url.startsWith('https://')).toBe(true);
  const res = await undiciFetch(`${url}/console/api/session`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ credential: ADMIN }) });
  expect(res.status).toBe(200);
  const set = res.headers.get('set-cookie') ?? '';
  expect(set).toMatch(/^fgw_console=[0-9A-Za-z]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
  const { csrf_token } = (await res.json()) as { csrf_token: string };
  const created = await undiciFetch(`${url}/admin/keys`, { method: 'POST', dispatcher, headers: { cookie: set.split(';')[0] ?? '', 'x-csrf-token': csrf_token, origin: url, 'content-type': 'application/json' }, body: '{"name":"over-tls"}' });
  expect(created.status).toBe(201);
});
