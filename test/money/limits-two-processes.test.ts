/**
 * Issue #9 item 5 as reported, with two gateway processes on one Postgres database: a budget cut
 * from $100 to $0.02 through instance A is enforced by instance B on its next request, although B
 * has the key cached (KEY_CACHE_MS set to 30 s so the cache cannot expire during the test). Before
 * the fix B let 9 more 4-image runs through. Needs TEST_DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const baseUrl = process.env.TEST_DATABASE_URL;

describe.skipIf(!baseUrl)('limits changed on one gateway process hold at once on another (Postgres)', () => {
  const FAL_KEY = 'fal_two_process_limits';
  const ADMIN = 'admin-token-two-process-limits';
  const dbName = `fgw_limits_${randomBytes(6).toString('hex')}`;
  let sim: FalSim;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const server = () => new pg.Client({ connectionString: baseUrl ?? '' });

  beforeAll(async () => {
    const c = server();
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const dbUrl = new URL(baseUrl ?? '');
    dbUrl.pathname = `/${dbName}`;
    sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 20 } });
    const env = { FAL_KEY, FAL_RUN_URL: sim.runUrl, FAL_QUEUE_URL: sim.queueUrl, DATABASE_URL: dbUrl.toString(), ADMIN_TOKEN: ADMIN, KEY_CACHE_MS: '30000' };
    [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    const c = server();
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });

  const runOnB = (key: string) =>
    fetch(`${b.url}/fal-ai/stable-diffusion-v35-medium`, {
      method: 'POST',
      headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'four foxes', image_size: 'square', num_images: 4 }),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));

  it('refuses all 9 runs after a budget cut from $100 to $0.02', async () => {
    const adminHeaders = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const created = await fetch(`${a.url}/admin/keys`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ name: 'cut', budget_usd: 100, rpm: 100_000 }) });
    const { key, id } = (await created.json()) as { key: string; id: string };
    expect((await runOnB(key)).status).toBe(200); // B caches the $100 key
    expect((await fetch(`${a.url}/admin/keys/${id}`, { method: 'PATCH', headers: adminHeaders, body: JSON.stringify({ budget_usd: 0.02 }) })).status).toBe(200);
    const runs = await Promise.all(Array.from({ length: 9 }, () => runOnB(key)));
    expect(runs.map((r) => r.status)).toEqual(Array(9).fill(402));
    expect(sim.stats().calls.run).toBe(1);
  }, 60_000);
});
