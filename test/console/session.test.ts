/** Console sign-in over the wire: credentials, cookie flags, CSRF, roles, audit, sign-out and secrets. */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ConsoleBrowser } from './session-client.js';

let gw: TestGateway;
afterEach(async () => {
  await gw.close();
});

const bearer = async (token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return (await res.json()) as Record<string, unknown>;
};
type Entry = { actor: string; action: string; client_ip: string | null; after: unknown };
const auditOf = async () => ((await bearer(gw.adminToken, 'GET', '/admin/audit')) as { entries: Entry[] }).entries;

it('signs in with ADMIN_TOKEN: session JSON, an HttpOnly SameSite=Strict cookie without Secure over http, and the same csrf_token on GET', async () => {
  gw = await startTestGateway();
  const b = new ConsoleBrowser(gw.url);
  const a = await b.signIn(gw.adminToken);
  expect(a.status).toBe(200);
  expect(Object.keys(a.json).sort()).toEqual(['actor', 'csrf_token', 'expires_at', 'idle_expires_at', 'role']);
  expect(a.json).toMatchObject({ actor: 'bootstrap', role: 'admin' });
  const set = a.headers.get('set-cookie') ?? '';
  expect(set).toMatch(/^fgw_console=[0-9A-Za-z]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  expect(a.headers.get('cache-control')).toBe('no-store');
  const again = await b.call('GET', '/console/api/session');
  expect(again.status).toBe(200);
  expect(again.json).toEqual(a.json);
  expect(Date.parse(String(a.json.expires_at)) - Date.parse(String(a.json.idle_expires_at))).toBeGreaterThan(11 * 3_600_000);
  // The cookie authenticates admin reads.
  expect((await b.call('GET', '/admin/keys')).status).toBe(200);
  const entry = (await auditOf()).find((e) => e.action === 'console.sign_in');
  expect(entry).toMatchObject({ actor: 'bootstrap', client_ip: '127.0.0.1', after: { role: 'admin' } });
});

it('answers 401 without a session, and for a wrong credential, counting it against the failed-login limit', async () => {
  gw = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: '2' } });
  const b = new ConsoleBrowser(gw.url);
  expect((await b.call('GET', '/console/api/session')).status).toBe(401);
  const wrong = await b.signIn('not-the-admin-token-at-all');
  expect(wrong.status).toBe(401);
  expect(wrong.json).toMatchObject({ error_type: 'unauthorized' });
  expect(wrong.headers.get('set-cookie')).toBeNull();
  expect((await b.signIn('fgw_ad_00000000000000000000000000000000')).status).toBe(401);
  // Over the limit the right credential is refused before it is compared.
  expect((await b.signIn(gw.adminToken)).status).toBe(429);
  expect((await b.call('POST', '/console/api/session', { credential: 'x', extra: 1 })).status).toBe(422);
});

it('state-changing admin calls on a cookie need the csrf token and the own origin; with them the audit names the actor', async () => {
  gw = await startTestGateway();
  const made = await bearer(gw.adminToken, 'POST', '/admin/admins', { name: 'ops', role: 'admin' });
  const b = new ConsoleBrowser(gw.url);
  expect((await b.signIn(String(made.secret))).json).toMatchObject({ actor: `admin:${String(made.id)}`, role: 'admin' });

  const none = await b.call('POST', '/admin/keys', { name: 'no-token' }, {}, false);
  expect(none.status).toBe(403);
  expect(none.json).toMatchObject({ error_type: 'csrf_token_invalid' });
  expect((await b.call('POST', '/admin/keys', { name: 'wrong-token' }, {}, 'A'.repeat(32))).status).toBe(403);
  expect((await b.call('POST', '/admin/keys', { name: 'cross' }, { origin: 'https://evil.example' })).status).toBe(403);
  expect((await b.call('POST', '/admin/keys', { name: 'sibling' }, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
  expect((await gw.stores.keys.list()).map((k) => k.name)).toEqual([]);

  const ok = await b.call('POST', '/admin/keys', { name: 'console-key' }, { origin: gw.url, 'sec-fetch-site': 'same-origin' });
  expect(ok.status).toBe(201);
  const created = (await auditOf()).find((e) => e.action === 'key.create');
  expect(created?.actor).toBe(`admin:${String(made.id)}`);
  // A bearer header wins over the cookie: a wrong one is 401 even with a valid session.
  expect((await b.call('GET', '/admin/keys', undefined, { authorization: 'Bearer wrong-wrong-wrong-wrong' })).status).toBe(401);
});

it('a viewer signed in reads reports and gets 403 for POST /admin/keys even with the csrf token', async () => {
  gw = await startTestGateway();
  const viewer = await bearer(gw.adminToken, 'POST', '/admin/admins', { name: 'finance', role: 'viewer' });
  const b = new ConsoleBrowser(gw.url);
  expect((await b.signIn(String(viewer.secret))).json).toMatchObject({ role: 'viewer' });
  expect((await b.call('GET', '/admin/usage')).status).toBe(200);
  const denied = await b.call('POST', '/admin/keys', { name: 'sneaky' });
  expect(denied.status).toBe(403);
  expect(denied.json).toMatchObject({ error_type: 'forbidden' });
  expect(await gw.stores.keys.list()).toEqual([]);
});

it('revoking a named credential ends its sessions at once', async () => {
  gw = await startTestGateway();
  const made = await bearer(gw.adminToken, 'POST', '/admin/admins', { name: 'temp', role: 'admin' });
  const b = new ConsoleBrowser(gw.url);
  await b.signIn(String(made.secret));
  expect((await b.call('GET', '/admin/keys')).status).toBe(200);
  await bearer(gw.adminToken, 'DELETE', `/admin/admins/${String(made.id)}`);
  expect((await b.call('GET', '/admin/keys')).status).toBe(401);
  expect((await b.call('GET', '/console/api/session')).status).toBe(401);
});

it('sign-out needs the csrf token, clears the cookie and ends the session; it is audited', async () => {
  gw = await startTestGateway();
  const b = new ConsoleBrowser(gw.url);
  await b.signIn(gw.adminToken);
  expect((await b.call('DELETE', '/console/api/session', undefined, {}, false)).status).toBe(403);
  expect((await b.call('GET', '/console/api/session')).status).toBe(200);
  const out = await b.call('DELETE', '/console/api/session');
  expect(out.status).toBe(204);
  expect(out.headers.get('set-cookie')).toBe('fgw_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  // The browser ignored the clearing (a copied cookie): the session is gone server-side, and the
  // answer tells the browser again to drop it.
  const stale = await b.call('GET', '/console/api/session');
  expect(stale.status).toBe(401);
  expect(stale.headers.get('set-cookie')).toBe('fgw_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  expect((await b.call('GET', '/admin/keys')).status).toBe(401);
  expect((await auditOf()).map((e) => [e.action, e.actor])).toContainEqual(['console.sign_out', 'bootstrap']);
});

it('signing in again from the same browser ends its earlier session', async () => {
  gw = await startTestGateway();
  const b = new ConsoleBrowser(gw.url);
  await b.signIn(gw.adminToken);
  const earlier = { cookie: b.cookie, csrf: b.csrf };
  await b.signIn(gw.adminToken);
  expect(b.cookie).not.toBe(earlier.cookie);
  expect((await b.call('GET', '/console/api/session')).status).toBe(200);
  const old = Object.assign(new ConsoleBrowser(gw.url), earlier);
  expect((await old.call('GET', '/console/api/session')).status).toBe(401);
});

it('no response body or log line holds the credential or the session id', async () => {
  gw = await startTestGateway();
  const made = await bearer(gw.adminToken, 'POST', '/admin/admins', { name: 'ops', role: 'admin' });
  const b = new ConsoleBrowser(gw.url);
  const bodies: string[] = [];
  for (const cred of [gw.adminToken, String(made.secret)]) {
    const a = await b.signIn(cred);
    bodies.push(a.text, (await b.call('GET', '/console/api/session')).text, (await b.call('POST', '/admin/keys', { name: 'k' })).text, (await b.call('GET', '/admin/audit')).text);
    const sessionId = (b.cookie ?? '').split('=')[1] ?? '';
    expect(sessionId).toMatch(/^[0-9A-Za-z]{43}$/);
    bodies.push((await b.call('DELETE', '/console/api/session')).text);
    const everything = [...bodies, ...gw.logs].join('\n');
    expect(everything).not.toContain(cred);
    expect(everything).not.toContain(sessionId);
  }
});
