/**
 * The gateway is SIGKILLed between reserve and settle (FAILPOINT, or a kill while fal holds the
 * call), restarted on the same SQLite file, and recovers: no reservation is left dangling, nothing
 * is charged twice (R6), and a row fal never saw is released rather than charged (issue #9, item 8).
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

// `charged`: what recovery leaves in the ledger. A row fal never saw is released (0 requests).
const scenarios = [
  { point: 'after-reserve', path: '/fal-ai/stable-diffusion-v35-medium', falCalls: 0, charged: { total_usd: 0, requests: 0 } },
  { point: 'after-reserve', path: '/queue/fal-ai/stable-diffusion-v35-medium', falCalls: 0, charged: { total_usd: 0, requests: 0 } },
  { point: 'after-upstream', path: '/fal-ai/stable-diffusion-v35-medium', falCalls: 1, charged: { total_usd: 0.02, requests: 1 } },
  { point: 'after-upstream', path: '/queue/fal-ai/stable-diffusion-v35-medium', falCalls: 1, charged: { total_usd: 0.02, requests: 1 } },
  { point: 'after-attach', path: '/queue/fal-ai/stable-diffusion-v35-medium', falCalls: 1, charged: { total_usd: 0.02, requests: 1 } },
];

describe.each(scenarios)('SIGKILL at $point on $path', ({ point, path, falCalls, charged }) => {
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
      // Charged once: from fal's bill where fal has the job, at its quote (flagged) where fal may
      // have run it, nothing where fal never saw it.
      expect(u).toMatchObject({ reserved_usd: 0, ...charged });
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

describe('SIGKILL while fal holds the call (the request left, no answer came)', () => {
  it('recovery charges the quote, flagged recovered and unverified, once the row\'s own deadline passed', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'fgw-crash-')), 'gw.db');
    sim.reset();
    const first = await startGateway(db);
    const created = await fetch(`${first.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'held' }) });
    const { key } = (await created.json()) as { key: string };
    const answer = fetch(`${first.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'held [sim:hang]', image_size: 'square' }) }).then(
      (r) => r.status,
      () => 'connection lost',
    );
    for (let i = 0; i < 100 && sim.stats().calls.run === 0; i++) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    expect(await answer).toBe('connection lost');
    await first.exited;

    const second = await startGateway(db);
    try {
      let u = await usage(second.url);
      for (let i = 0; i < 200 && u.reserved_usd !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        u = await usage(second.url);
      }
      expect(u).toMatchObject({ reserved_usd: 0, requests: 1, total_usd: 0.02 });
    } finally {
      await second.stop();
    }
    const check = new Database(db, { readonly: true });
    const row = check.prepare('SELECT state, outcome, settle_source, verified, upstream_phase FROM ledger_entries').get();
    check.close();
    expect(row).toEqual({ state: 'settled', outcome: 'recovered', settle_source: 'quote', verified: 0, upstream_phase: 'sent' });
  }, 60_000);
});
