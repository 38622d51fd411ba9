/**
 * Issue #14 item 1 over the wire: after a mixed run (sync and queue, success and failure, reliability
 * faults, a queue job that straddles an hour boundary) every bucket matches fal's usage; with the
 * simulated fal told to bill one request twice, reconciliation reports exactly that difference and
 * names that request, and raises the operator alert once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, T0, queued, reconcile, run, startRig, type Rig } from './rig.js';

let rig: Rig;
afterEach(() => rig.close());

const iso = (ms: number): string => new Date(ms).toISOString();
const at = (min: number): number => T0 + min * 60_000;

describe('reconciliation after a mixed run', () => {
  it('matches every bucket, including a queue job fal billed before the hour and the ledger settled after it', async () => {
    rig = await startRig();
    rig.clock.set(at(10));
    expect((await run(rig, { prompt: 'ok one', image_size: 'square' })).status).toBe(200);
    expect((await run(rig, { prompt: 'ok two', image_size: 'square_hd' })).status).toBe(200);
    // fal does not bill a 500; a reset after the headers was billed (the ledger settles it as body_lost).
    expect((await run(rig, { prompt: 'boom [sim:error]', image_size: 'square' })).status).toBeGreaterThanOrEqual(500);
    await run(rig, { prompt: 'cut [sim:reset]', image_size: 'square' });
    rig.clock.set(at(20));
    expect((await queued(rig, { prompt: 'queued ok', image_size: 'square', num_images: 2 })).status).toBe(200);
    const failedJob = await queued(rig, { prompt: 'queued boom [sim:error]', image_size: 'square' });
    expect(failedJob.status).toBeGreaterThanOrEqual(400);
    // fal completes (bills) this one just before 11:00; the gateway hears of it at 11:00:10.
    rig.clock.set(at(59) + 55_000);
    const straddler = await queued(rig, { prompt: 'straddles', image_size: 'square' }, () => rig.clock.set(at(60) + 10_000));
    expect(straddler.status).toBe(200);
    rig.clock.set(at(90));
    expect((await run(rig, { prompt: 'ok three', image_size: 'landscape_4_3' })).status).toBe(200);

    rig.clock.set(at(4 * 60));
    // A row still open keeps its buckets pending; the gateway's own reconciler (every
    // RECONCILE_INTERVAL_MS) follows it up, as it would in production.
    // (Here: the failed queue job, whose 500 result the client's fetch did not settle.)
    expect((await rig.stores.ledger.pending(10)).map((row) => row.falRequestId)).toEqual([failedJob.falRequestId]);
    expect((await reconcile(rig, iso(T0), iso(T0 + 2 * HOUR))).buckets.map((b) => b.status)).toEqual(['pending', 'pending']);
    await rig.app.reconciler.pass();
    expect(await rig.stores.ledger.pending(10)).toEqual([]);
    const r = await reconcile(rig, iso(T0), iso(T0 + 2 * HOUR));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.buckets.map((b) => b.status), JSON.stringify(r.buckets)).toEqual(['matched', 'matched']);
    const [ten, eleven] = r.buckets;
    // fal: 1 + 2 + 1 (reset) + 2 (queue) + 1 (straddler) in 10:00; the ledger settled the straddler at 11:00:10.
    expect(ten).toMatchObject({ fal_units: 7, ledger_units: 6, difference_units: 1 });
    expect(eleven).toMatchObject({ fal_units: 1, ledger_units: 2, difference_units: -1 });
    expect(eleven?.rows.map((row) => row.fal_request_id)).toEqual([straddler.falRequestId]);
    expect(eleven?.rows[0]?.reason).toBe('boundary');
    expect(rig.logs.join('\n')).not.toContain('reconciliation_difference');
    // fal's keys appear in no answer and no log line.
    expect(JSON.stringify(r.json) + rig.logs.join('\n')).not.toContain(rig.adminKey);
  }, 60_000);

  it('reports exactly the request fal billed twice, once, with an alert', async () => {
    rig = await startRig();
    rig.clock.set(at(5));
    const one = await run(rig, { prompt: 'one', image_size: 'square' });
    const doubled = await run(rig, { prompt: 'two', image_size: 'square_hd' });
    const three = await run(rig, { prompt: 'three', image_size: 'square' });
    for (const a of [one, doubled, three]) expect(a.status).toBe(200);
    rig.sim.billTwice(doubled.falRequestId ?? '');

    rig.clock.set(at(3 * 60));
    const r = await reconcile(rig, iso(T0), iso(T0 + HOUR));
    expect(r.buckets).toHaveLength(1);
    const [b] = r.buckets;
    expect(b).toMatchObject({ status: 'difference', fal_units: 6, ledger_units: 4, difference_units: 2, difference_usd: '0.040000' });
    expect(b?.rows.filter((row) => row.reason === 'units_equal_difference').map((row) => row.fal_request_id)).toEqual([doubled.falRequestId]);
    const alertLines = () => rig.logs.filter((l) => l.includes('"alert":"reconciliation_difference"'));
    expect(alertLines()).toHaveLength(1);
    expect(alertLines()[0]).toContain(doubled.falRequestId ?? 'missing');

    // Re-running the window replaces the bucket: the same difference, no second alert, one stored row.
    const again = await reconcile(rig, iso(T0), iso(T0 + HOUR));
    expect(again.buckets[0]).toMatchObject({ status: 'difference', difference_units: 2 });
    expect(alertLines()).toHaveLength(1);
    const stored = await rig.stores.reconciliation.list(iso(T0 - HOUR), iso(T0 + 3 * HOUR));
    expect(stored).toHaveLength(1);
    const metrics = await (await fetch(`${rig.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_reconciliation_differences_total 1/);
    expect(metrics).toMatch(/gateway_reconciliation_buckets\{status="difference"\} 1/);
  }, 60_000);
});
