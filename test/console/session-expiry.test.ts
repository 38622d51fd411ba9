/** Session lifetimes on an injected clock: idle expiry, absolute expiry, throttled last-seen writes, one-time codes. */
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { mintOneTimeSignIn } from '../../src/services/console-sessions.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ConsoleBrowser } from './session-client.js';

let gw: TestGateway | undefined;
let nowMs = Date.parse('2026-12-02T10:00:00.000Z');
const clock = () => new Date(nowMs);
const MIN = 60_000;
afterEach(async () => {
  await gw?.close();
});

it('a session idle past CONSOLE_SESSION_IDLE_MS ends; use within it extends it, the last-seen write at most once a minute', async () => {
  nowMs = Date.parse('2026-12-02T10:00:00.000Z');
  gw = await startTestGateway({ now: clock, env: { CONSOLE_SESSION_IDLE_MS: String(10 * MIN) } });
  const b = new ConsoleBrowser(gw.url);
  const first = await b.signIn(gw.adminToken);
  expect(first.json.idle_expires_at).toBe('2026-12-02T10:10:00.000Z');
  const touches: string[] = [];
  const touch = gw.stores.sessions.touch.bind(gw.stores.sessions);
  gw.stores.sessions.touch = (h, at, notBefore) => {
    touches.push(at);
    return touch(h, at, notBefore);
  };
  // Polled every 5 s for 50 s: no write; the idle expiry stays where it was.
  for (let i = 0; i < 10; i++) {
    nowMs += 5_000;
    expect((await b.call('GET', '/admin/keys')).status).toBe(200);
  }
  expect(touches).toEqual([]);
  nowMs += 10_000;
  const moved = await b.call('GET', '/console/api/session');
  expect(moved.json.idle_expires_at).toBe('2026-12-02T10:11:00.000Z');
  expect(touches).toEqual(['2026-12-02T10:01:00.000Z']);
  expect(moved.json.csrf_token).toBe(first.json.csrf_token);
  nowMs += 9 * MIN + 59_000;
  expect((await b.call('GET', '/console/api/session')).status).toBe(200);
  // Idle for the whole window from the last write: over.
  nowMs = Date.parse('2026-12-02T10:10:59.000Z') + 10 * MIN;
  expect((await b.call('GET', '/admin/keys')).status).toBe(401);
  expect((await b.call('GET', '/console/api/session')).status).toBe(401);
});

it('a session in constant use still ends at CONSOLE_SESSION_MAX_MS after sign-in', async () => {
  nowMs = Date.parse('2026-12-02T10:00:00.000Z');
  gw = await startTestGateway({ now: clock, env: { CONSOLE_SESSION_MAX_MS: String(30 * MIN), CONSOLE_SESSION_IDLE_MS: String(10 * MIN) } });
  const b = new ConsoleBrowser(gw.url);
  expect((await b.signIn(gw.adminToken)).json.expires_at).toBe('2026-12-02T10:30:00.000Z');
  for (let i = 0; i < 5; i++) {
    nowMs += 5 * MIN;
    expect((await b.call('GET', '/admin/keys')).status).toBe(200);
  }
  expect((await b.call('GET', '/console/api/session')).json.idle_expires_at).toBe('2026-12-02T10:30:00.000Z');
  nowMs = Date.parse('2026-12-02T10:30:00.000Z');
  expect((await b.call('GET', '/admin/keys')).status).toBe(401);
});

it('a later sign-in purges expired sessions from the store', async () => {
  nowMs = Date.parse('2026-12-02T10:00:00.000Z');
  gw = await startTestGateway({ now: clock, env: { CONSOLE_SESSION_IDLE_MS: String(10 * MIN) } });
  const old = new ConsoleBrowser(gw.url);
  await old.signIn(gw.adminToken);
  const deleted: string[] = [];
  const purge = gw.stores.sessions.purgeExpired.bind(gw.stores.sessions);
  gw.stores.sessions.purgeExpired = async (now, idleBefore) => {
    const n = await purge(now, idleBefore);
    deleted.push(`${n}`);
    return n;
  };
  nowMs += 11 * MIN;
  await new ConsoleBrowser(gw.url).signIn(gw.adminToken);
  expect(deleted).toEqual(['1']);
  expect((await old.call('GET', '/console/api/session')).status).toBe(401);
});

it('a one-time sign-in code signs in as bootstrap once, never twice, and not after 15 minutes', async () => {
  nowMs = Date.parse('2026-12-02T10:00:00.000Z');
  gw = await startTestGateway({ now: clock, env: { AUTH_FAILURES_PER_MINUTE: '100' } });
  const { code, expiresAt } = await mintOneTimeSignIn(gw.stores, clock());
  expect(code).toMatch(/^fgw_os_[0-9A-Za-z]{32}$/);
  expect(expiresAt).toBe('2026-12-02T10:15:00.000Z');
  const b = new ConsoleBrowser(gw.url);
  const a = await b.signIn(code);
  expect(a.status).toBe(200);
  expect(a.json).toMatchObject({ actor: 'bootstrap', role: 'admin' });
  expect((await b.call('POST', '/admin/keys', { name: 'from-code' })).status).toBe(201);
  expect((await new ConsoleBrowser(gw.url).signIn(code)).status).toBe(401);
  // Not a bearer credential for the admin API either.
  const late = await mintOneTimeSignIn(gw.stores, clock());
  expect((await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${late.code}` } })).status).toBe(401);
  nowMs += 15 * MIN;
  expect((await new ConsoleBrowser(gw.url).signIn(late.code)).status).toBe(401);
  expect(gw.logs.join('\n')).not.toContain(code);
});

it('refuses session lifetimes under a minute (the last-seen write throttle) and defaults to 30 min idle, 12 h absolute', () => {
  expect(() => loadConfig({ FAL_KEY: 'k', CONSOLE_SESSION_IDLE_MS: '1000' })).toThrow(/CONSOLE_SESSION_IDLE_MS must be an integer from 60000/);
  expect(() => loadConfig({ FAL_KEY: 'k', CONSOLE_SESSION_MAX_MS: 'soon' })).toThrow(/CONSOLE_SESSION_MAX_MS/);
  expect(loadConfig({ FAL_KEY: 'k' }).consoleSession).toEqual({ idleMs: 30 * MIN, maxMs: 12 * 60 * MIN });
  gw = undefined;
});
