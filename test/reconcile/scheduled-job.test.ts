/**
 * The scheduled reconciliation (RECONCILE_USAGE_INTERVAL_MS): of two instances on one database only
 * the lease holder runs a tick; the other takes over once the lease lapses. Ticks are driven
 * directly (tests never wait for timers); the job records and re-checks the trailing window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { HOUR, MIN, T0, run, startRig } from './rig.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('runs on one instance at a time and hands over when the holder stops renewing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-recon-job-'));
  const url = `sqlite:${join(dir, 'gateway.db')}`;
  const [sa, sb] = [await openStores(url), await openStores(url)];
  const env = { RECONCILE_USAGE_INTERVAL_MS: String(10 * MIN), RECONCILE_LAG_MS: String(HOUR) };
  const a = await startRig({ stores: sa, env });
  const b = await startRig({ stores: sb, env, shared: { sim: a.sim, clock: a.clock, falKey: a.falKey, adminKey: a.adminKey } });
  cleanups.push(async () => {
    await b.close();
    await a.close();
    await sa.close();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });
  expect(a.app.reconciliation.scheduled).toBe(true);
  a.clock.set(T0 + 30 * MIN);
  expect((await run(a, { prompt: 'job', image_size: 'square' })).status).toBe(200);

  a.clock.set(T0 + 3 * HOUR);
  const first = await a.app.reconciliation.job.tick();
  expect(first).not.toBeNull();
  expect(first?.buckets.find((x) => x.start === new Date(T0).toISOString())).toMatchObject({ status: 'matched', falUnits: 1, ledgerUnits: 1 });
  expect(await b.app.reconciliation.job.tick()).toBeNull();
  a.clock.set(T0 + 3 * HOUR + 5 * MIN);
  expect(await a.app.reconciliation.job.tick()).not.toBeNull();
  expect(await b.app.reconciliation.job.tick()).toBeNull();
  // a stops ticking; after its lease (one interval) lapses, b takes over.
  a.clock.set(T0 + 3 * HOUR + 16 * MIN);
  expect(await b.app.reconciliation.job.tick()).not.toBeNull();
  expect(await a.app.reconciliation.job.tick()).toBeNull();
  expect((await sb.reconciliation.list(new Date(T0).toISOString(), new Date(T0 + HOUR).toISOString(), 'hour'))).toHaveLength(1);
});
