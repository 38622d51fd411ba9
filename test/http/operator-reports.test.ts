/**
 * The operator reports over the wire, after a mixed run through the simulated fal (sync successes,
 * a 402, a fal failure, a queue job): /admin/keys, /admin/teams, /admin/usage and /admin/requests
 * agree with each other and with the ledger, pages never repeat or drop a row while rows are
 * inserted, CSV is formula-neutral, a viewer reads and cannot write, and the request log line
 * carries the client IP, the key and the cost. On SQLite and Postgres (when configured).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { countersFor, NO_LIMITS } from '../../src/domain/budgets.js';
import type { LedgerRow } from '../../src/store/ledger-store.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { describeBackends } from '../store/store-backends.js';

let gw: TestGateway;
// Real time moved to noon UTC of a fixed day, so the run never crosses a day or month boundary.
const START = Date.now();
const now = () => new Date(Date.parse('2026-06-15T12:00:00.000Z') + (Date.now() - START));

const call = async (token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, json: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null) as Record<string, unknown> };
};
const admin = async <T>(path: string) => {
  const r = await call(gw.adminToken, 'GET', path);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
  return r.json as T;
};
const micro = (usd: number | null | undefined) => Math.round((usd ?? NaN) * 1e6);

interface Period { spent_usd: number; reserved_usd: number; budget_usd: number | null; remaining_usd: number | null }
interface KeyReport { id: string; name: string; team: string | null; status: string; last_used_at: string | null; budget_usd: number | null; usage: { lifetime: Period; day: Period; month: Period } }
interface UsageRow { group: string; key_id?: string; key_name?: string | null; team?: string | null; day?: string; hour?: string; requests: number; spent_usd: number; released: number; http_2xx: number; http_402: number; http_5xx: number; images: number }
interface Usage { total_usd: number; reserved_usd: number; requests: number; released: number; images: number; rows: UsageRow[] }
interface RequestRow { id: string; key_id: string; key_name: string | null; team: string | null; state: string; http_status: number | null; cost_usd: number | null; quoted_usd: number; images: number; fal_request_id: string | null; flags: Record<string, boolean> }
interface Page { requests: RequestRow[]; next_cursor: string | null }

async function run(key: string, input: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  await res.arrayBuffer();
  return res.status;
}

async function allLedgerRows(): Promise<LedgerRow[]> {
  return gw.stores.ledger.page({ limit: 1000 });
}

async function settleAll(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await gw.app.reconciler.pass();
    if ((await admin<Usage>('/admin/usage')).reserved_usd === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the queue job never settled');
}

describeBackends('operator reports over the wire', (fresh) => {
  it('agree with each other and the ledger after a mixed run; pages, filters, CSV, roles and the log line', async () => {
    const stores = await (await fresh()).open();
    gw = await startTestGateway({ stores: { ...stores, close: () => Promise.resolve() }, now, simLatencyMs: 20 });
    try {
      await scenario();
    } finally {
      await gw.close();
    }
  }, 60_000);
});

async function scenario(): Promise<void> {
  const hd = validInput({ image_size: 'square_hd' });
  const a = await gw.createKey({ name: 'alpha', team: 'design', budget_usd: 0.1 });
  const b = await gw.createKey({ name: 'beta', team: 'design', budget_usd: 1 });
  const c = await gw.createKey({ name: "=HYPERLINK('http://x')", budget_daily_usd: 5 });
  const idle = await gw.createKey({ name: 'idle', team: 'solo' });
  expect((await call(gw.adminToken, 'PUT', '/admin/teams/design', { budget_monthly_usd: 10 })).status).toBe(200);
  expect((await call(gw.adminToken, 'PUT', '/admin/teams/empty', { budget_usd: 2 })).status).toBe(200);

  // alpha ($0.10): one success, a fal failure (released), then four 1024² images (a $0.16 hold)
  // answered 402 before fal: that one leaves no ledger row.
  expect(await run(a.key, validInput())).toBe(200);
  expect(await run(a.key, validInput({ prompt: 'boom [sim:error]' }))).toBe(500);
  expect(await run(a.key, { ...hd, num_images: 4 })).toBe(402);
  // gamma: two sync successes.
  expect(await run(c.key, hd)).toBe(200);
  expect(await run(c.key, validInput({ num_images: 2 }))).toBe(200);

  // beta: a queue job of 2 images, in flight while the reports are read.
  gw.sim.setFaults({ latencyMs: 800 });
  const submit = await fetch(`${gw.url}/queue/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${b.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...hd, num_images: 2 }) });
  expect(submit.status).toBe(200);
  await submit.arrayBuffer();
  const inFlight = await admin<KeyReport>(`/admin/keys/${b.id}`);
  // Two 1024² images hold two whole megapixels each (pricing.ts reservationMicro): $0.08.
  expect(micro(inFlight.usage.lifetime.reserved_usd)).toBe(80_000);
  expect(micro(inFlight.usage.lifetime.remaining_usd)).toBe(1_000_000 - micro(inFlight.usage.lifetime.spent_usd) - 80_000);
  expect((await admin<Page>(`/admin/requests?flag=open`)).requests.map((r) => r.key_id)).toEqual([b.id]);
  gw.sim.setFaults({ latencyMs: 20 });
  await settleAll();

  // The ledger is the truth every report must match.
  const rows = await allLedgerRows();
  const spentOf = (keyId: string) => rows.filter((r) => r.keyId === keyId && r.state === 'settled').reduce((s, r) => s + (r.settledMicro ?? 0), 0);
  expect(rows).toHaveLength(5);
  expect(spentOf(a.id)).toBeGreaterThan(0);

  const keys = (await admin<{ keys: KeyReport[] }>('/admin/keys')).keys;
  const byKey = await admin<Usage>('/admin/usage?group_by=key');
  for (const k of [a, b, c]) {
    const report = keys.find((r) => r.id === k.id);
    const usageRow = byKey.rows.find((r) => r.key_id === k.id);
    expect(micro(report?.usage.lifetime.spent_usd)).toBe(spentOf(k.id));
    expect(micro(report?.usage.day.spent_usd)).toBe(spentOf(k.id));
    expect(micro(report?.usage.month.spent_usd)).toBe(spentOf(k.id));
    expect(micro(usageRow?.spent_usd)).toBe(spentOf(k.id));
    expect(report?.last_used_at).toBe(rows.filter((r) => r.keyId === k.id).map((r) => r.createdAt).sort().at(-1));
  }
  const alpha = keys.find((r) => r.id === a.id);
  expect(alpha).toMatchObject({ name: 'alpha', team: 'design', status: 'active', budget_usd: 0.1 });
  expect(alpha?.usage.lifetime).toMatchObject({ reserved_usd: 0, budget_usd: 0.1 });
  expect(micro(alpha?.usage.lifetime.remaining_usd)).toBe(100_000 - spentOf(a.id));
  expect(keys.find((r) => r.id === idle.id)).toMatchObject({ last_used_at: null, usage: { lifetime: { spent_usd: 0, remaining_usd: null } } });
  expect(byKey.rows.find((r) => r.key_id === a.id)).toMatchObject({ key_name: 'alpha', team: 'design', requests: 1, released: 1, http_2xx: 1, http_5xx: 1, http_402: 0 });
  expect(byKey.rows.find((r) => r.key_id === c.id)).toMatchObject({ images: 3, key_name: "=HYPERLINK('http://x')", team: null });
  expect(micro(byKey.total_usd)).toBe(rows.reduce((s, r) => s + (r.state === 'settled' ? (r.settledMicro ?? 0) : 0), 0));

  // Filters on /admin/keys.
  expect((await admin<{ keys: KeyReport[] }>('/admin/keys?team=design')).keys.map((k) => k.name).sort()).toEqual(['alpha', 'beta']);
  expect((await call(gw.adminToken, 'DELETE', `/admin/keys/${idle.id}`)).status).toBe(200);
  expect((await admin<{ keys: KeyReport[] }>('/admin/keys?status=revoked')).keys.map((k) => k.id)).toEqual([idle.id]);
  expect((await admin<{ keys: KeyReport[] }>('/admin/keys?status=active')).keys).toHaveLength(3);
  expect((await call(gw.adminToken, 'GET', '/admin/keys?status=gone')).status).toBe(422);

  // Teams: budget rows and teams only named on keys, with spend and key counts.
  const teams = (await admin<{ teams: { name: string; keys: number; active_keys: number; budget_monthly_usd: number | null; usage: { lifetime: Period; month: Period } }[] }>('/admin/teams')).teams;
  expect(teams.map((t) => t.name)).toEqual(['design', 'empty', 'solo']);
  const design = teams[0];
  expect(design).toMatchObject({ keys: 2, active_keys: 2, budget_monthly_usd: 10 });
  expect(micro(design?.usage.lifetime.spent_usd)).toBe(spentOf(a.id) + spentOf(b.id));
  expect(micro(design?.usage.month.remaining_usd)).toBe(10_000_000 - spentOf(a.id) - spentOf(b.id));
  expect(teams[2]).toMatchObject({ keys: 1, active_keys: 0, updated_at: null });
  expect((await admin<{ name: string }>('/admin/teams/solo')).name).toBe('solo');
  expect((await call(gw.adminToken, 'GET', '/admin/teams/nobody')).status).toBe(404);
  const byTeam = await admin<Usage>('/admin/usage?group_by=team');
  expect(byTeam.rows.map((r) => [r.team, micro(r.spent_usd)])).toEqual([
    [null, spentOf(c.id)],
    ['design', spentOf(a.id) + spentOf(b.id)],
  ]);

  // Grids for charts: day × key and hour × team.
  const grid = await admin<Usage>('/admin/usage?group_by=day,key');
  expect(grid.rows.every((r) => r.day === '2026-06-15')).toBe(true);
  expect(grid.rows.map((r) => r.key_name).sort()).toEqual(['=HYPERLINK(\'http://x\')', 'alpha', 'beta']);
  const hours = await admin<Usage>('/admin/usage?group_by=hour,team');
  expect(hours.rows.every((r) => r.hour?.startsWith('2026-06-15T12:00:00.000Z') === true)).toBe(true);
  expect((await call(gw.adminToken, 'GET', '/admin/usage?group_by=key,day')).status).toBe(422);

  // CSV: names neutralised, columns added after the original six.
  const csv = await call(gw.adminToken, 'GET', '/admin/usage?group_by=key&format=csv');
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(csv.text).toContain(`"'=HYPERLINK('http://x')"`.replace(/"/g, ''));
  expect(csv.text).not.toMatch(/(^|,)=HYPERLINK/m);
  const keysCsv = await call(gw.adminToken, 'GET', '/admin/keys?format=csv');
  expect(keysCsv.text.split('\n')[0]).toMatch(/^id,name,team,/);
  expect(keysCsv.text).not.toMatch(/(^|,)=HYPERLINK/m);

  // Requests: every row exactly once across pages while rows are inserted between pages.
  const seen: string[] = [];
  const before = new Set(rows.map((r) => r.id));
  let cursor: string | null = null;
  let inserted = 0;
  do {
    const page: Page = await admin<Page>(`/admin/requests?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
    seen.push(...page.requests.map((r) => r.id));
    cursor = page.next_cursor;
    await insertRow(b.id);
    inserted++;
  } while (cursor !== null);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.filter((id) => before.has(id)).sort()).toEqual([...before].sort());
  expect((await allLedgerRows()).length).toBe(5 + inserted);

  // Filters and fields of a row.
  const alphaRows = (await admin<Page>(`/admin/requests?key_id=${a.id}`)).requests;
  expect(alphaRows.map((r) => [r.state, r.http_status])).toEqual([
    ['released', 500],
    ['settled', 200],
  ]);
  expect(alphaRows[1]).toMatchObject({ key_name: 'alpha', team: 'design', quoted_usd: 0.02, images: 1, flags: { unverified: false, recovered: false, overrun: false, open: false } });
  expect(micro(alphaRows[1]?.cost_usd)).toBe(spentOf(a.id));
  const queued = rows.find((r) => r.keyId === b.id);
  expect(queued?.falRequestId).not.toBeNull();
  expect((await admin<Page>(`/admin/requests?fal_request_id=${queued?.falRequestId ?? ''}`)).requests.map((r) => r.id)).toEqual([queued?.id]);
  expect((await admin<Page>('/admin/requests?team=design&state=settled')).requests.map((r) => r.key_id).sort()).toEqual([a.id, b.id].sort());
  expect((await call(gw.adminToken, 'GET', '/admin/requests?limit=501')).status).toBe(400);
  expect((await call(gw.adminToken, 'GET', '/admin/requests?cursor=bm9wZQ')).status).toBe(400);
  const reqCsv = await call(gw.adminToken, 'GET', `/admin/requests?key_id=${c.id}&format=csv&limit=1`);
  expect(reqCsv.headers.get('x-next-cursor')).not.toBeNull();
  expect(reqCsv.text.split('\n')[1]).toContain(`'=HYPERLINK`);

  // A viewer reads every report and changes nothing.
  const viewer = (await call(gw.adminToken, 'POST', '/admin/admins', { name: 'finance', role: 'viewer' })).json as { secret: string };
  for (const path of ['/admin/keys', `/admin/keys/${a.id}`, '/admin/teams', '/admin/teams/design', '/admin/usage?group_by=day,team', '/admin/requests', '/admin/requests?format=csv']) {
    expect((await call(viewer.secret, 'GET', path)).status, path).toBe(200);
  }
  expect((await call(viewer.secret, 'POST', '/admin/keys', { name: 'sneaky' })).status).toBe(403);
  expect((await call(viewer.secret, 'PATCH', `/admin/keys/${a.id}`, { rpm: 1 })).status).toBe(403);
  expect((await call(viewer.secret, 'PUT', '/admin/teams/design', { budget_usd: 1 })).status).toBe(403);

  // The request log: client IP, key and cost in micro-USD, never a secret.
  const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  const runs = lines.filter((l) => l.op === 'run' && l.keyId === a.id);
  expect(runs.map((l) => [l.status, l.chargedMicroUsd])).toEqual([
    [200, spentOf(a.id)],
    [500, 0],
    [402, undefined],
  ]);
  expect(runs.every((l) => l.ip === '127.0.0.1')).toBe(true);
  const submitLine = lines.find((l) => l.op === 'submit');
  expect(submitLine).toMatchObject({ keyId: b.id, ip: '127.0.0.1' });
  expect(submitLine?.quotedMicroUsd).toBe(Math.round(Number(submit.headers.get('x-gateway-cost-usd')) * 1e6));
  for (const secret of [a.key, b.key, c.key, viewer.secret, gw.adminToken]) expect(gw.logs.join('\n')).not.toContain(secret);
}

/** A reservation written straight to the ledger, as another instance would while an operator pages. */
async function insertRow(keyId: string): Promise<void> {
  const at = now().toISOString();
  const r = await gw.stores.ledger.reserve({
    id: `req_${randomUUID()}`,
    keyId,
    team: 'design',
    operation: 'submit',
    quotedMicro: 1,
    requestedMegapixels: 1,
    counters: countersFor(keyId, NO_LIMITS, 'design', NO_LIMITS, new Date(at)),
    idempotencyKey: null,
    bodyHash: null,
    endUser: null,
    tokenId: null,
    images: 1,
    at,
  });
  if (!r.ok) throw new Error(`insert refused: ${r.reason}`);
}
