/**
 * `fal-gateway reconcile` (reconcileCommand) on the gateway's own SQLite file, against the simulated
 * fal's usage API: matched → exit 0, a request billed twice → exit 1 naming it (text and --json),
 * bad arguments, no FAL_ADMIN_KEY or another run in progress → exit 2 with a message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reconcileCommand } from '../../src/cli-reconcile.js';
import { RUN_LEASE_MS, RUN_LEASE_NAME } from '../../src/services/reconciliation.js';
import { openStores } from '../../src/store/stores.js';
import { HOUR, MIN, T0, run, startRig, type Rig } from './rig.js';

let rig: Rig;
let dir: string;
let env: Record<string, string>;
let doubled: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fgw-reconcile-cli-'));
  const databaseUrl = `sqlite:${join(dir, 'gateway.db')}`;
  rig = await startRig({ stores: await openStores(databaseUrl) });
  env = { DATABASE_URL: databaseUrl, FAL_API_URL: rig.sim.apiUrl, FAL_ADMIN_KEY: rig.adminKey, RECONCILE_LAG_MS: String(HOUR) };
  rig.clock.set(T0 + 10 * MIN);
  expect((await run(rig, { prompt: 'one', image_size: 'square' })).status).toBe(200);
  rig.clock.set(T0 + HOUR + 10 * MIN);
  const second = await run(rig, { prompt: 'two', image_size: 'square_hd' });
  expect(second.status).toBe(200);
  doubled = second.falRequestId ?? '';
  rig.clock.set(T0 + 5 * HOUR);
});
afterAll(async () => {
  await rig.close();
  await rig.stores.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await reconcileCommand(argv, { env: { ...env, ...extraEnv }, out: (t) => (out += t), err: (t) => (err += t), now: () => new Date(rig.clock.t) });
  return { code, out, err };
}

it('prints every bucket matched and exits 0', async () => {
  const r = await cli(['--from', '2026-03-10T10:00:00Z', '--to', '2026-03-10T12:00:00Z']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toContain('2 matched, 0 different, 0 pending');
  const audited = (await rig.stores.admins.listAudit({ limit: 10 })).filter((e) => e.action === 'reconciliation.run');
  expect(audited).toHaveLength(1);
  expect(audited[0]).toMatchObject({ clientIp: null, target: 'hour 2026-03-10T10:00:00.000Z/2026-03-10T12:00:00.000Z', after: { matched: 2, differences: 0 } });
  expect(audited[0]?.actor).toMatch(/^cli:/);
});

it('exits 1 and names the request fal billed twice, in text and JSON', async () => {
  rig.sim.billTwice(doubled);
  const text = await cli(['--from', '2026-03-10T10:00:00Z', '--to', '2026-03-10T12:00:00Z']);
  expect(text.code).toBe(1);
  expect(text.out).toContain(`units_equal_difference: ledger gw_`);
  expect(text.out).toContain(`fal ${doubled} units 2`);
  // A day bucket is judged once the day ended more than RECONCILE_LAG_MS ago.
  expect((await cli(['--from', '2026-03-10', '--to', '2026-03-11', '--bucket', 'day'])).out).toContain('0 different, 1 pending');
  rig.clock.set('2026-03-11T02:00:00Z');
  const json = await cli(['--from', '2026-03-10', '--to', '2026-03-11', '--bucket', 'day', '--json']);
  expect(json.code).toBe(1);
  const parsed = JSON.parse(json.out) as { differences: number; buckets: { status: string; difference_units: number; rows: { fal_request_id: string; reason: string }[] }[] };
  expect(parsed.differences).toBe(1);
  expect(parsed.buckets[0]).toMatchObject({ status: 'difference', difference_units: 2 });
  expect(parsed.buckets[0]?.rows.find((row) => row.reason === 'units_equal_difference')?.fal_request_id).toBe(doubled);
});

it('exits 2 with a message on bad arguments or without FAL_ADMIN_KEY', async () => {
  expect(await cli(['--from', 'yesterday', '--to', '2026-03-11'])).toMatchObject({ code: 2, err: expect.stringContaining('--from and --to') as unknown });
  expect(await cli(['--from', '2026-03-10', '--to', '2026-03-11', '--bucket', 'week'])).toMatchObject({ code: 2 });
  expect(await cli(['--from', '2026-03-10', '--to', '2026-03-11', '--nope'])).toMatchObject({ code: 2 });
  const noKey = await cli(['--from', '2026-03-10', '--to', '2026-03-11'], { FAL_ADMIN_KEY: '' });
  expect(noKey.code).toBe(2);
  expect(noKey.err).toContain('FAL_ADMIN_KEY');
});

it('exits 2 saying so while another run holds the run lease (the gateway\'s job or an admin run)', async () => {
  const now = rig.clock.t;
  expect(await rig.stores.reconciliation.claimLease(RUN_LEASE_NAME, 'gateway-instance', new Date(now).toISOString(), new Date(now + RUN_LEASE_MS).toISOString())).toBe(true);
  const busy = await cli(['--from', '2026-03-10T10:00:00Z', '--to', '2026-03-10T12:00:00Z']);
  expect(busy.code).toBe(2);
  expect(busy.err).toContain('Another reconciliation run');
  const at = new Date(rig.clock.t).toISOString();
  await rig.stores.reconciliation.claimLease(RUN_LEASE_NAME, 'gateway-instance', at, at);
  expect((await cli(['--from', '2026-03-10T10:00:00Z', '--to', '2026-03-10T12:00:00Z'])).code).not.toBe(2);
});
