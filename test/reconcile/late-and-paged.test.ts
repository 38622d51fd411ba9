/**
 * fal's usage API misbehaving as its docs allow (docs/fal-protocol.md §4.1): late buckets
 * (usageLagMs) stay pending and are decided on a later run without double counting; partial pages
 * are walked to the end; 429 is retried after Retry-After and given up on with a clear error; the
 * serving key (no ADMIN scope) gets a clear refusal that names no key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createFalPlatform } from '../../src/upstream/fal-platform.js';
import { HOUR, MIN, T0, admin, reconcile, run, startRig, type Rig } from './rig.js';

let current: Rig | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});
async function start(opts: Parameters<typeof startRig>[0] = {}): Promise<Rig> {
  current = await startRig(opts);
  return current;
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('late buckets', () => {
  it('keeps a bucket pending while it is younger than RECONCILE_LAG_MS, then matches it once, never adding twice', async () => {
    // fal totals a charge 40 minutes after it happens; the gateway waits an hour after a bucket ends.
    const rig = await start({ simFaults: { usageLagMs: 40 * MIN }, env: { RECONCILE_LAG_MS: String(HOUR) } });
    rig.clock.set(T0 + 50 * MIN);
    for (const prompt of ['a', 'b', 'c']) expect((await run(rig, { prompt, image_size: 'square' })).status).toBe(200);

    rig.clock.set(T0 + HOUR + 20 * MIN);
    const early = await reconcile(rig, iso(T0), iso(T0 + HOUR));
    expect(early.buckets).toMatchObject([{ status: 'pending', fal_units: 0, ledger_units: 3 }]);
    expect(early.buckets[0]?.note).toContain('settle lag');
    const listed = await admin(rig, 'GET', `/admin/reconciliation?from=${iso(T0)}&to=${iso(T0 + HOUR)}`);
    expect(listed.json).toMatchObject({ configured: true, days: [{ day: '2026-03-10', status: 'pending', pending: 1 }] });

    rig.clock.set(T0 + 2 * HOUR + 5 * MIN);
    for (let i = 0; i < 2; i++) {
      const late = await reconcile(rig, iso(T0), iso(T0 + HOUR));
      expect(late.buckets).toMatchObject([{ status: 'matched', fal_units: 3, ledger_units: 3, difference_units: 0 }]);
    }
    const stored = await rig.stores.reconciliation.list(iso(T0), iso(T0 + HOUR));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'matched', falUnits: 3, ledgerUnits: 3 });
  });

  it('shows the false difference a settle lag shorter than fal\'s would report (why the lag exists)', async () => {
    const rig = await start({ simFaults: { usageLagMs: 40 * MIN }, env: { RECONCILE_LAG_MS: String(10 * MIN) } });
    rig.clock.set(T0 + 50 * MIN);
    expect((await run(rig, { prompt: 'a', image_size: 'square' })).status).toBe(200);
    rig.clock.set(T0 + HOUR + 20 * MIN);
    expect((await reconcile(rig, iso(T0), iso(T0 + HOUR))).buckets).toMatchObject([{ status: 'difference', difference_units: -1 }]);
    rig.clock.set(T0 + HOUR + 45 * MIN);
    expect((await reconcile(rig, iso(T0), iso(T0 + HOUR))).buckets).toMatchObject([{ status: 'matched', difference_units: 0 }]);
  });
});

describe('pagination and rate limits', () => {
  it('walks partial pages until next_cursor is null', async () => {
    const rig = await start({ simFaults: { usageMaxPageSize: 1 } });
    for (let h = 0; h < 4; h++) {
      rig.clock.set(T0 + h * HOUR + 30 * MIN);
      expect((await run(rig, { prompt: `hour ${h}`, image_size: 'square' })).status).toBe(200);
    }
    rig.clock.set(T0 + 8 * HOUR);
    const r = await reconcile(rig, iso(T0), iso(T0 + 4 * HOUR));
    expect(r.buckets.map((b) => [b.status, b.fal_units])).toEqual([['matched', 1], ['matched', 1], ['matched', 1], ['matched', 1]]);
    // One usage call per bucket with usage (4, plus none for the empty neighbours).
    expect(rig.sim.calls().filter((c) => c.op === 'usage')).toHaveLength(4);
  });

  it('honours Retry-After on a 429 and then reads the page', async () => {
    const rig = await start({ simFaults: { usageRate429: 1, usageRetryAfterS: 7 } });
    rig.clock.set(T0 + 10 * MIN);
    expect((await run(rig, { prompt: 'a', image_size: 'square' })).status).toBe(200);
    const waits: number[] = [];
    const platform = createFalPlatform({
      apiUrl: rig.sim.apiUrl,
      adminKey: rig.adminKey,
      priceKey: rig.adminKey,
      timeoutMs: 5_000,
      sleep: (ms) => {
        waits.push(ms);
        rig.sim.setFaults({ usageRate429: 0 });
        return Promise.resolve();
      },
    });
    const usage = await platform.usage(new Date(T0), new Date(T0 + HOUR), 'hour');
    expect(waits).toEqual([7_000]);
    expect(usage.get(T0)).toMatchObject({ units: 1, costMicro: 20_000 });
  });

  it('gives up on a usage API that keeps answering 429, with a clear 503 and nothing recorded', async () => {
    const rig = await start({ simFaults: { usageRate429: 1, usageRetryAfterS: 0 } });
    rig.clock.set(T0 + 3 * HOUR);
    const r = await reconcile(rig, iso(T0), iso(T0 + HOUR));
    expect(r.status).toBe(503);
    expect(JSON.stringify(r.json)).toMatch(/429/);
    expect(await rig.stores.reconciliation.list(iso(T0), iso(T0 + HOUR))).toEqual([]);
  });
});

describe('keys', () => {
  it('answers a clear 502 when the configured admin key lacks ADMIN scope, without showing it', async () => {
    // The serving key in FAL_ADMIN_KEY needs the explicit opt-in; fal then refuses it (403).
    const rig = await start({ servingKeyAsAdmin: true });
    rig.clock.set(T0 + 3 * HOUR);
    const r = await reconcile(rig, iso(T0), iso(T0 + HOUR));
    expect(r.status).toBe(502);
    expect(JSON.stringify(r.json)).toContain('ADMIN');
    expect(JSON.stringify(r.json) + rig.logs.join('\n')).not.toContain(rig.falKey);
  });

  it('refuses FAL_ADMIN_KEY equal to FAL_KEY unless opted in, naming neither', () => {
    const env = { FAL_KEY: 'serving-key-secret-1', FAL_ADMIN_KEY: 'serving-key-secret-1' };
    expect(() => loadConfig(env)).toThrow(/FAL_ADMIN_KEY equals FAL_KEY/);
    expect(() => loadConfig(env)).not.toThrow(/serving-key-secret-1/);
    expect(loadConfig({ ...env, FAL_ADMIN_KEY_MAY_EQUAL_FAL_KEY: 'true' }).platform.adminKey).toBe('serving-key-secret-1');
  });

  it('refuses a run without FAL_ADMIN_KEY (409) and lets a viewer read but not run', async () => {
    const rig = await start({ env: { FAL_ADMIN_KEY: '' } });
    const r = await reconcile(rig, iso(T0), iso(T0 + HOUR));
    expect(r.status).toBe(409);
    expect(JSON.stringify(r.json)).toContain('FAL_ADMIN_KEY');
    const viewer = await admin(rig, 'POST', '/admin/admins', { name: 'finance', role: 'viewer' });
    const secret = typeof viewer.json.secret === 'string' ? viewer.json.secret : '';
    expect(secret).not.toBe('');
    const read = await admin(rig, 'GET', `/admin/reconciliation?from=2026-03-10&to=2026-03-11`, undefined, secret);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ configured: false, days: [] });
    expect((await admin(rig, 'POST', '/admin/reconciliation/run', { from: '2026-03-10', to: '2026-03-11' }, secret)).status).toBe(403);
    expect((await admin(rig, 'GET', `/admin/reconciliation?from=2026-03-11&to=2026-03-10`)).status).toBe(400);
    expect((await admin(rig, 'GET', `/admin/reconciliation?from=2026-03-10`)).status).toBe(422);
    expect((await admin(rig, 'POST', '/admin/reconciliation/run', { from: '2026-03-10', to: '2026-03-11', bucket: 'week' })).status).toBe(422);
  });

  it('refuses a window of more buckets than one run takes, before asking fal', async () => {
    const rig = await start();
    const r = await reconcile(rig, '2000-01-01', '2026-01-01', 'hour');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toContain('bucket=day');
    expect(rig.sim.calls().filter((c) => c.op === 'usage')).toHaveLength(0);
  });
});
