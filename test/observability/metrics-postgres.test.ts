/**
 * Two gateway processes on one Postgres: their request counters sum to the requests sent, their
 * spend and settlement counters sum to the shared ledger's (whichever instance settled a queue
 * request), and the global budget gauges read the same on both. Needs TEST_DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { scrape, sum } from '../helpers/prometheus.js';

const dbBase = process.env.TEST_DATABASE_URL;
if (!dbBase) console.warn('TEST_DATABASE_URL is not set: the two-process metrics test is skipped');

describe.skipIf(!dbBase)('metrics across two instances on Postgres', () => {
  const FAL_KEY = 'fal_metrics_pg_key';
  const ADMIN = 'admin-token-metrics-pg';
  const dbName = `fgw_metrics_${randomBytes(6).toString('hex')}`;
  let sim: FalSim;
  let gws: GatewayProcess[] = [];

  beforeAll(async () => {
    const c = new pg.Client({ connectionString: dbBase });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const url = new URL(dbBase ?? '');
    url.pathname = `/${dbName}`;
    sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 20 } });
    const env = { FAL_KEY, FAL_RUN_URL: sim.runUrl, FAL_QUEUE_URL: sim.queueUrl, DATABASE_URL: url.toString(), ADMIN_TOKEN: ADMIN,
      // No reconciler pass mid-test: the submit below must be settled by the instance that fetches its result.
      RECONCILE_INTERVAL_MS: '3600000' };
    gws = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await sim?.close();
    const c = new pg.Client({ connectionString: dbBase });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });

  const at = (i: number): string => gws[i % 2]?.url ?? '';
  const call = async (i: number, path: string, key: string, init: RequestInit = {}): Promise<Response> =>
    fetch(at(i) + path, { ...init, headers: { authorization: `Key ${key}`, 'content-type': 'application/json' } });

  it('sums per-instance counters to the totals and reports the same global gauges on both', async () => {
    const created = await fetch(`${at(0)}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pg', budget_usd: 2, rpm: 1000 }) });
    const { id, key } = (await created.json()) as { id: string; key: string };
    const body = JSON.stringify({ prompt: 'a fox', image_size: 'square' });
    const RUNS = 7;
    for (let i = 0; i < RUNS; i++) {
      const r = await call(i, '/fal-ai/stable-diffusion-v35-medium', key, { method: 'POST', body });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    // A submit on instance 0, polled and collected on instance 1: settled there.
    const sub = (await (await call(0, '/queue/fal-ai/stable-diffusion-v35-medium', key, { method: 'POST', body })).json()) as { request_id: string };
    const base = `/queue/fal-ai/stable-diffusion-v35-medium/requests/${sub.request_id}`;
    let status = '';
    for (let i = 0; i < 200 && status !== 'COMPLETED'; i++) {
      status = ((await (await call(1, `${base}/status`, key)).json()) as { status: string }).status;
      if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 50));
    }
    const result = await call(1, base, key);
    expect(result.status).toBe(200);
    await result.arrayBuffer();

    const [m0, m1] = await Promise.all([scrape(at(0)), scrape(at(1))]);
    if (!m0 || !m1) throw new Error('no scrape');
    const both = (name: string, where: Record<string, string> = {}) => sum(m0, name, where) + sum(m1, name, where);
    expect(sum(m0, 'gateway_requests_total', { operation: 'run' })).toBe(Math.ceil(RUNS / 2));
    expect(sum(m1, 'gateway_requests_total', { operation: 'run' })).toBe(Math.floor(RUNS / 2));
    expect(both('gateway_requests_total', { operation: 'run' })).toBe(RUNS);
    expect(both('gateway_requests_total', { operation: 'submit' })).toBe(1);
    // Instance 1 settled the submit instance 0 reserved (its facts read back from the ledger).
    expect(sum(m1, 'gateway_settlements_total')).toBe(Math.floor(RUNS / 2) + 1);

    const usage = (await (await fetch(`${at(0)}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { total_usd: number; requests: number; megapixels: number };
    const spent = Math.round(usage.total_usd * 1e6);
    expect(both('gateway_settlements_total')).toBe(usage.requests);
    expect(both('gateway_spend_micro_usd_total', { key_id: id })).toBe(spent);
    expect(both('gateway_megapixels_settled_total')).toBeCloseTo(usage.megapixels, 5);
    const remaining = (m: typeof m0) => sum(m, 'gateway_key_budget_remaining_micro_usd', { key_id: id, period: 'lifetime' });
    expect(remaining(m0)).toBe(2_000_000 - spent);
    expect(remaining(m1)).toBe(remaining(m0));
    expect(sum(m0, 'gateway_reservations_in_flight')).toBe(0);
    expect(sum(m1, 'gateway_reservations_in_flight')).toBe(0);
  }, 60_000);
});
