/**
 * The gateway is SIGKILLed between reserve and settle (FAILPOINT), restarted on the same SQLite
 * file, and recovers: no reservation is left dangling and nothing is charged twice (R6).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const FAL_KEY = 'fal_crash_test_key';
const ADMIN = 'admin-token-for-crash-tests';
let sim: FalSim;

beforeAll(async () => {
  sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 20 } });
});
afterAll(() => sim.close());

function startGateway(dbPath: string, failpoint?: string): Promise<GatewayProcess> {
  return startGatewayProcess({
    FAL_KEY,
    FAL_RUN_URL: sim.runUrl,
    FAL_QUEUE_URL: sim.queueUrl,
    DATABASE_URL: `sqlite:${dbPath}`,
    ADMIN_TOKEN: ADMIN,
    RUN_TIMEOUT_MS: '1000',
    POLL_TIMEOUT_MS: '1000',
    RECONCILE_INTERVAL_MS: '200',
    ...(failpoint ? { FAILPOINT: failpoint } : {}),
  });
}

async function usage(url: string) {
  const res = await fetch(`${url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await res.json()) as { total_usd: number; reserved_usd: number; requests: number };
}

const scenarios = [
  { point: 'after-reserve', path: '/fal-ai/stable-diffusion-v35-medium', falCalls: 0 },
  { point: 'after-upstream', path: '/fal-ai/stable-diffusion-v35-medium', falCalls: 1 },
  { point: 'after-upstream', path: '/queue/fal-ai/stable-diffusion-v35-medium', falCalls: 1 },
  { point: 'after-attach', path: '/queue/fal-ai/stable-diffusion-v35-medium', falCalls: 1 },
];

describe.each(scenarios)('SIGKILL at $point on $path', ({ point, path, falCalls }) => {
  it('recovers every reservation exactly once after a restart', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'fgw-crash-')), 'gw.db');
    sim.reset();
    const first = await startGateway(db, point);
    const created = await fetch(`${first.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crash' }) });
    const { key } = (await created.json()) as { key: string };
    const answer = await fetch(first.url + path, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'crash', image_size: 'square' }) }).then(
      (r) => r.status,
      () => 'connection lost',
    );
    expect(answer).toBe('connection lost');
    expect(await first.exited).toBe('SIGKILL');
    expect(sim.stats().calls.run + sim.stats().calls.submit).toBe(falCalls);

    const second = await startGateway(db);
    try {
      let u = await usage(second.url);
      for (let i = 0; i < 200 && u.reserved_usd !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        u = await usage(second.url);
      }
      // One request, charged once: settled from fal's bill where fal has the job, else at its quote (flagged).
      expect(u).toMatchObject({ reserved_usd: 0, requests: 1, total_usd: 0.02 });
      // The restarted gateway serves the same key normally.
      const again = await fetch(second.url + path, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'after', image_size: 'square' }) });
      expect(again.status).toBe(200);
      await again.arrayBuffer();
    } finally {
      await second.stop();
    }
    const check = new Database(db, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  }, 60_000);
});
