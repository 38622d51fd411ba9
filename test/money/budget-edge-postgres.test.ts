/**
 * Budget edge across instances: two gateway processes share one Postgres database; 200 concurrent
 * requests split between them against a budget that fits exactly 10 images → exactly 10 admitted,
 * overspend 0 (docs/reliability.md R2). Needs TEST_DATABASE_URL (CI sets it).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const baseUrl = process.env.TEST_DATABASE_URL;
if (!baseUrl) console.warn('TEST_DATABASE_URL is not set: the two-process Postgres budget test is skipped');

describe.skipIf(!baseUrl)('budget edge: two gateway processes on one Postgres', () => {
  const FAL_KEY = 'fal_two_process_key';
  const ADMIN = 'admin-token-two-processes';
  const dbName = `fgw_edge_${randomBytes(6).toString('hex')}`;
  let sim: FalSim;
  let gateways: GatewayProcess[] = [];

  const admin = (url: string) => new pg.Client({ connectionString: url });

  beforeAll(async () => {
    const c = admin(baseUrl ?? '');
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const dbUrl = new URL(baseUrl ?? '');
    dbUrl.pathname = `/${dbName}`;
    sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 20 } });
    const env = { FAL_KEY, FAL_RUN_URL: sim.runUrl, FAL_QUEUE_URL: sim.queueUrl, DATABASE_URL: dbUrl.toString(), ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' };
    // Started together: their migrations race and must both succeed.
    gateways = await Promise.all([startGatewayProcess({ ...env, LOG_LEVEL: 'info' }), startGatewayProcess({ ...env, LOG_LEVEL: 'info' })]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await sim.close();
    const c = admin(baseUrl ?? '');
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });

  it('admits exactly 10 of 200 and spends exactly the budget', async () => {
    const [a, b] = gateways;
    if (!a || !b) throw new Error('gateways not started');
    const created = await fetch(`${a.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'edge', budget_usd: 0.4, rpm: 100_000 }) });
    const { key, id } = (await created.json()) as { key: string; id: string };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${(i % 2 === 0 ? a : b).url}/fal-ai/stable-diffusion-v35-medium`, {
          method: 'POST',
          headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `edge ${i}`, image_size: 'square_hd' }),
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(10);
    expect(results.filter((s) => s === 402)).toHaveLength(190);
    expect(sim.stats().calls.run).toBe(10);
    const usage = (await (await fetch(`${b.url}/admin/usage?key_id=${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { total_usd: number; reserved_usd: number };
    expect(usage).toMatchObject({ total_usd: 0.4, reserved_usd: 0 });
  }, 60_000);
});
