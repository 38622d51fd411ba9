/**
 * POST /admin/reconciliation/run takes the run lease every entry point shares (409 while another
 * run holds it, nothing recorded or audited), and writes an audit entry with actor and client IP.
 * The scheduled job meeting a held run lease skips its tick instead of running alongside.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { RUN_LEASE_MS, RUN_LEASE_NAME, ReconciliationService } from '../../src/services/reconciliation.js';
import type { FalPlatform, FalUsageBucket } from '../../src/upstream/fal-platform.js';
import { HOUR, T0, admin, reconcile, run, startRig, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const window = { from: new Date(T0).toISOString(), to: new Date(T0 + HOUR).toISOString() };
const auditOf = async (r: Rig): Promise<Record<string, unknown>[]> => ((await admin(r, 'GET', '/admin/audit')).json.entries ?? []) as Record<string, unknown>[];

it('refuses a run with 409 while another holds the run lease, and audits the run it does', async () => {
  rig = await startRig({ env: { RECONCILE_USAGE_INTERVAL_MS: '0' } });
  expect((await run(rig, { prompt: 'audited', image_size: 'square' })).status).toBe(200);
  rig.clock.set(T0 + 3 * HOUR);
  const now = rig.clock.t;
  // Another instance (or the CLI) is mid-run.
  expect(await rig.stores.reconciliation.claimLease(RUN_LEASE_NAME, 'other-instance', new Date(now).toISOString(), new Date(now + RUN_LEASE_MS).toISOString())).toBe(true);
  const refused = await reconcile(rig, window.from, window.to);
  expect(refused.status).toBe(409);
  expect(JSON.stringify(refused.json)).toContain('Another reconciliation run');
  expect(await rig.stores.reconciliation.list(window.from, window.to)).toHaveLength(0);
  expect((await auditOf(rig)).filter((e) => e.action === 'reconciliation.run')).toHaveLength(0);
  // The scheduled job skips rather than running alongside.
  expect(await rig.app.reconciliation.job.tick()).toBeNull();
  expect(rig.logs.join('\n')).toContain('scheduled run skipped, another run is in progress');

  // The other run ends (its holder releases the lease).
  const at = new Date(rig.clock.t).toISOString();
  await rig.stores.reconciliation.claimLease(RUN_LEASE_NAME, 'other-instance', at, at);
  const ok = await reconcile(rig, window.from, window.to);
  expect(ok.status).toBe(200);
  expect(ok.buckets[0]).toMatchObject({ status: 'matched', fal_units: 1, ledger_units: 1 });
  const entries = (await auditOf(rig)).filter((e) => e.action === 'reconciliation.run');
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ actor: 'bootstrap', client_ip: '127.0.0.1', target: `hour ${window.from}/${window.to}`, after: { bucket: 'hour', matched: 1, differences: 0, pending: 0 } });
  // The lease was released: the next run is not refused.
  expect((await reconcile(rig, window.from, window.to)).status).toBe(200);
});

it('refuses an admin run while another entry point is mid-run, then lets the next one through', async () => {
  rig = await startRig({ env: { RECONCILE_USAGE_INTERVAL_MS: '0' } });
  rig.clock.set(T0 + 3 * HOUR);
  const r = rig;
  // A second entry point (the CLI, another instance) on the same database whose fal answer is held.
  let answer: (usage: Map<number, FalUsageBucket>) => void = () => undefined;
  let asked = false;
  const usage = (): Promise<Map<number, FalUsageBucket>> => {
    asked = true;
    return new Promise((resolve) => (answer = resolve));
  };
  const platform: FalPlatform = { usage, price: () => Promise.resolve(null) };
  const other = new ReconciliationService({ platform, store: r.stores.reconciliation, lagMs: HOUR, now: () => new Date(r.clock.t) });
  const first = other.run(new Date(window.from), new Date(window.to), 'hour');
  await vi.waitFor(() => expect(asked).toBe(true)); // it holds the run lease from here until fal answers
  expect((await reconcile(r, window.from, window.to)).status).toBe(409);
  answer(new Map());
  expect((await first).matched).toBe(1);
  expect((await reconcile(r, window.from, window.to)).status).toBe(200);
});
