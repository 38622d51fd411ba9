/**
 * Two gateway processes sharing Redis (rate-limit counters) and Postgres (keys, ledger): together
 * they admit exactly L calls per window, and never run more than a key's max_concurrency at once.
 * Needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets both).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const dbBase = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
if (!dbBase || !redisUrl) console.warn('TEST_DATABASE_URL or TEST_REDIS_URL is not set: the two-process Redis/Postgres limit tests are skipped');

describe.skipIf(!dbBase || !redisUrl)('limits across two instances (Redis + Postgres)', () => {
  const FAL_KEY = 'fal_scale_out_key';
  const ADMIN = 'admin-token-scale-out';
  const dbName = `fgw_limits_${randomBytes(6).toString('hex')}`;
  let sim: FalSim;
  let gws: GatewayProcess[] = [];

  beforeAll(async () => {
    const c = new pg.Client({ connectionString: dbBase });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const url = new URL(dbBase ?? '');
    url.pathname = `/${dbName}`;
    sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 300 } });
    const env = {
      FAL_KEY,
      FAL_RUN_URL: sim.runUrl,
      FAL_QUEUE_URL: sim.queueUrl,
      DATABASE_URL: url.toString(),
      // A per-test namespace is unnecessary: keys are random, so counters never collide.
      REDIS_URL: redisUrl ?? '',
      ADMIN_TOKEN: ADMIN,
    };
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

  const create = async (body: Record<string, unknown>) => {
    const res = await fetch(`${gws[0]?.url ?? ''}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as { key: string };
  };
  const runVia = (i: number, key: string) =>
    fetch(`${gws[i % 2]?.url ?? ''}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', image_size: 'square' }) }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  it('admits exactly L generation calls per window across both instances', async () => {
    const { key } = await create({ name: 'rl', rpm: 7 });
    const statuses = [];
    // Sequential, alternating instances: each instance alone would admit 7.
    for (let i = 0; i < 12; i++) statuses.push(await runVia(i, key));
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  }, 60_000);

  it("never exceeds a key's concurrency cap across both instances", async () => {
    const { key } = await create({ name: 'conc', max_concurrency: 3, rpm: 1000 });
    // Long generations, so all 20 attempts overlap; and fal itself refuses a 4th concurrent call,
    // so an overshoot would show as fal's 429 instead of the gateway's.
    sim.reset();
    sim.setFaults({ latencyMs: 3000, syncConcurrency: 3 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${gws[i % 2]?.url ?? ''}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', image_size: 'square' }) }).then(async (r) => ({ status: r.status, body: await r.text() })),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(17);
    for (const r of refused) expect(JSON.parse(r.body)).toMatchObject({ error_type: 'concurrency_limited', limit_scope: 'key' });
    expect(sim.stats().calls.run).toBe(3);
  }, 60_000);
});
