/**
 * SIGTERM on the real server process (issue #9 item 7): readiness drains first, calls still running
 * at the end of SHUTDOWN_GRACE_MS get a complete, non-retryable 500 (never a cut socket, which
 * fal's clients would retry and pay for twice), no ledger row stays reserved, and the process exits
 * without waiting RUN_TIMEOUT_MS for fal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';

const FAL_KEY = 'fal_shutdown_test_key';
const ADMIN = 'admin-token-for-shutdown-tests';
const RUN = '/fal-ai/stable-diffusion-v35-medium';
let sim: FalSim;

beforeAll(async () => {
  sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 20_000 } });
});
afterAll(() => sim.close());

async function gateway(db: string, env: Record<string, string>) {
  const gw = await startGatewayProcess({
    FAL_KEY,
    FAL_RUN_URL: sim.runUrl,
    FAL_QUEUE_URL: sim.queueUrl,
    DATABASE_URL: `sqlite:${db}`,
    ADMIN_TOKEN: ADMIN,
    ...env,
  });
  const res = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"name":"shutdown"}' });
  const { key } = (await res.json()) as { key: string };
  return { gw, key };
}

const run = (url: string, key: string, prompt: string) =>
  fetch(url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt, image_size: 'square' }) }).then(
    async (r) => ({ status: r.status, body: await r.text(), connection: r.headers.get('connection') }),
    (err: unknown) => ({ status: 0, body: `connection lost: ${String(err)}`, connection: null }),
  );

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('SIGTERM with sync calls in flight', () => {
  it('answers every call still running at the end of the grace with a complete 500 and exits promptly', async () => {
    sim.reset();
    const db = join(mkdtempSync(join(tmpdir(), 'fgw-shutdown-')), 'gw.db');
    // RUN_TIMEOUT_MS stays at its 300 s default: the exit must not wait for it.
    const { gw, key } = await gateway(db, { SHUTDOWN_GRACE_MS: '2000' });
    const N = 6;
    const answers = Promise.all(Array.from({ length: N }, (_, i) => run(gw.url, key, `slow ${i}`)));
    await until(() => sim.stats().calls.run === N, 'fal to receive every call');

    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    const got = await answers;
    expect(await gw.exited).toBe(0);
    // fal would answer after 20 s; the grace is 2 s. A generous bound for a loaded machine.
    expect(Date.now() - signalled).toBeLessThan(15_000);

    for (const a of got) {
      expect(a.status).toBe(500);
      // The answer ends its keep-alive connection, so the exit does not wait for idle sockets.
      expect(a.connection).toBe('close');
      expect(JSON.parse(a.body)).toMatchObject({ error_type: 'upstream_outcome_unknown' });
    }
    const ledger = new Database(db, { readonly: true });
    try {
      const rows = ledger.prepare('SELECT state, quoted_micro, settled_micro, verified FROM ledger_entries').all() as { state: string; quoted_micro: number; settled_micro: number; verified: number }[];
      expect(rows).toHaveLength(N);
      // fal received every call and may bill it: charged at the quote, flagged unverified (never released).
      for (const r of rows) expect(r).toEqual({ state: 'settled', quoted_micro: r.quoted_micro, settled_micro: r.quoted_micro, verified: 0 });
    } finally {
      ledger.close();
    }
  }, 60_000);

  it('answers 503 on /readyz during the drain while still serving requests, then finishes them', async () => {
    sim.reset();
    sim.setFaults({ latencyMs: 1_000 });
    const db = join(mkdtempSync(join(tmpdir(), 'fgw-drain-')), 'gw.db');
    const { gw, key } = await gateway(db, { SHUTDOWN_DRAIN_MS: '3000', SHUTDOWN_GRACE_MS: '10000' });
    const inFlight = run(gw.url, key, 'before the signal');
    await until(() => sim.stats().calls.run === 1, 'the first call to reach fal');
    gw.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));

    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);
    await ready.arrayBuffer();
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    // A balancer that has not seen the 503 yet still gets its request served during the drain.
    const during = await run(gw.url, key, 'during the drain');
    expect(during).toMatchObject({ status: 200, connection: 'close' });
    expect((await inFlight).status).toBe(200);
    expect(await gw.exited).toBe(0);
  }, 60_000);
});
