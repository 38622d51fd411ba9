/** Named admin credentials with roles, and the audit log of admin actions, over the wire. */
import { expect, it } from 'vitest';
import { hashKey } from '../../src/domain/keys.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { describeBackends } from '../store/store-backends.js';

let gw: TestGateway;

const call = async (token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text === '' ? null : JSON.parse(text)) as Record<string, unknown> };
};
type Entry = { actor: string; action: string; target: string | null; before: unknown; after: unknown; client_ip: string | null; at: string };

describeBackends('admin roles and audit over the wire', (fresh) => {
  it('a viewer reads reports but every state-changing call answers 403; revoked credentials get 401; all of it is audited', async () => {
    // The database handles are closed by the suite, not by the gateway.
    const stores = await (await fresh()).open();
    gw = await startTestGateway({ stores: { ...stores, close: () => Promise.resolve() } });
    try {
      await scenario();
    } finally {
      await gw.close();
    }
  }, 30_000);
});

async function scenario(): Promise<void> {
  const boot = gw.adminToken;
  const made = await call(boot, 'POST', '/admin/admins', { name: 'finance', role: 'viewer' });
  expect(made.status).toBe(201);
  const viewer = made.json as { id: string; secret: string; role: string };
  expect(viewer.secret).toMatch(/^fgw_ad_[0-9A-Za-z]{32}$/);
  const ops = (await call(boot, 'POST', '/admin/admins', { name: 'ops', role: 'admin' })).json as { id: string; secret: string };

  // Viewer: reads yes, writes no.
  for (const path of ['/admin/usage', '/admin/keys', '/admin/teams', '/admin/audit']) expect((await call(viewer.secret, 'GET', path)).status).toBe(200);
  const denied = await call(viewer.secret, 'POST', '/admin/keys', { name: 'sneaky' });
  expect(denied.status).toBe(403);
  expect(JSON.stringify(denied.json)).toContain('forbidden');
  expect((await call(viewer.secret, 'PUT', '/admin/teams/research', { budget_usd: 1 })).status).toBe(403);
  expect((await call(viewer.secret, 'POST', '/admin/admins', { name: 'me', role: 'admin' })).status).toBe(403);
  expect((await call(viewer.secret, 'GET', '/admin/admins')).status).toBe(403);
  expect((await gw.stores.keys.list()).map((k) => k.name)).not.toContain('sneaky');

  // A named admin does everything, attributed to itself.
  const key = (await call(ops.secret, 'POST', '/admin/keys', { name: 'k1', team: 'research' })).json as { id: string; key: string };
  expect((await call(ops.secret, 'PATCH', `/admin/keys/${key.id}`, { rpm: 7 })).status).toBe(200);
  expect((await call(ops.secret, 'PUT', '/admin/teams/research', { budget_usd: 20 })).status).toBe(200);
  expect((await call(ops.secret, 'DELETE', `/admin/keys/${key.id}`)).status).toBe(200);
  expect((await call(boot, 'DELETE', `/admin/admins/${viewer.id}`)).status).toBe(200);
  expect((await call(viewer.secret, 'GET', '/admin/usage')).status).toBe(401);
  const listed = (await call(boot, 'GET', '/admin/admins')).json as { admins: { id: string; revoked_at: string | null }[] };
  expect(listed.admins.find((a) => a.id === viewer.id)?.revoked_at).not.toBeNull();

  const audit = (await call(ops.secret, 'GET', '/admin/audit')).json as { entries: Entry[]; next_cursor: string | null };
  const actorOf = `admin:${(ops as { id: string }).id}`;
  expect(audit.entries.map((e) => [e.action, e.actor, e.target])).toEqual([
    ['admin.revoke', 'bootstrap', viewer.id],
    ['key.revoke', actorOf, key.id],
    ['team.set', actorOf, 'research'],
    ['key.update', actorOf, key.id],
    ['key.create', actorOf, key.id],
    ['admin.create', 'bootstrap', ops.id],
    ['admin.create', 'bootstrap', viewer.id],
  ]);
  const update = audit.entries[3];
  expect(update?.before).toMatchObject({ rpm: null });
  expect(update?.after).toMatchObject({ rpm: 7 });
  expect(update?.client_ip).toBe('127.0.0.1');

  // Filters and pages, newest first.
  const page1 = (await call(boot, 'GET', `/admin/audit?actor=${encodeURIComponent(actorOf)}&limit=3`)).json as { entries: Entry[]; next_cursor: string };
  expect(page1.entries.map((e) => e.action)).toEqual(['key.revoke', 'team.set', 'key.update']);
  const page2 = (await call(boot, 'GET', `/admin/audit?actor=${encodeURIComponent(actorOf)}&limit=3&cursor=${page1.next_cursor}`)).json as { entries: Entry[]; next_cursor: string | null };
  expect(page2.entries.map((e) => e.action)).toEqual(['key.create']);
  expect(page2.next_cursor).toBeNull();
  expect(((await call(boot, 'GET', '/admin/audit?action=team.set')).json as { entries: Entry[] }).entries).toHaveLength(1);
  expect(((await call(boot, 'GET', `/admin/audit?target=${key.id}&to=2000-01-01`)).json as { entries: Entry[] }).entries).toHaveLength(0);
  expect((await call(boot, 'GET', '/admin/audit?cursor=garbage')).status).toBe(400);

  // One `admin action` log line per action; no secret or hash in the audit log or any log line.
  const lines = gw.logs.map((l) => JSON.parse(l) as { msg: string; audit?: Entry }).filter((l) => l.msg === 'admin action');
  expect(lines.map((l) => l.audit?.action)).toEqual(audit.entries.map((e) => e.action).reverse());
  const everything = [JSON.stringify(audit), ...gw.logs].join('\n');
  for (const s of [viewer.secret, ops.secret, key.key, hashKey(viewer.secret), hashKey(ops.secret), hashKey(key.key), boot]) expect(everything).not.toContain(s);
}

it('counts unknown and revoked admin credentials against the per-IP failed-login limit', async () => {
  const g = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: '3' } });
  try {
    const get = (token: string) => fetch(`${g.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    const made = (await (await fetch(`${g.url}/admin/admins`, { method: 'POST', headers: { authorization: `Bearer ${g.adminToken}`, 'content-type': 'application/json' }, body: '{"name":"x","role":"admin"}' })).json()) as { id: string; secret: string };
    await fetch(`${g.url}/admin/admins/${made.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${g.adminToken}` } });
    expect(await get(made.secret)).toBe(401);
    for (let i = 0; i < 2; i++) expect(await get('fgw_ad_00000000000000000000000000000000')).toBe(401);
    // Over the limit, even the right credential is refused before it is compared.
    expect(await get(g.adminToken)).toBe(429);
  } finally {
    await g.close();
  }
});
