/**
 * `npm run reliability [-- --requests N] [-- --minutes M]`: the failure matrix's long version
 * (issue #9 item 13). Two gateway processes on a fresh database of the machine's Postgres and on
 * its Redis, the simulated fal with faults on (its own: 429, 500, hangs, resets; and a faulty
 * network in front: hangs before the body, resets before/after headers, 5xx JSON/nginx, garbage),
 * instances SIGKILLed or SIGTERMed and restarted every few seconds, thousands of mixed calls.
 * Then faults off, recovery, and the figures (see audit.ts). Exits 1 if a must-be-zero figure is not.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startFalSim } from '../../src/sim/fal-sim.js';
import { startFaultFal, type WireFault } from '../../test/helpers/fault-fal.js';
import { audit, type LedgerDbRow } from './audit.js';
import { Fleet } from './fleet.js';
import { runTraffic } from './traffic.js';
import { printFigures } from './print.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '3000' }, minutes: { type: 'string', default: '30' }, concurrency: { type: 'string', default: '16' }, 'chaos-every-s': { type: 'string', default: '8' } } });
const REQUESTS = Number(values.requests);
const MINUTES = Number(values.minutes);
const CONCURRENCY = Number(values.concurrency);
const CHAOS_S = Number(values['chaos-every-s']);
const BASE_DB = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FAL_KEY = 'fal_reliability_key';
const ADMIN = `admin_${randomBytes(12).toString('hex')}`;
const PRICE = 20_000;

/** Network faults on POSTs (the rest pass); the sim adds its own on top (SIM_FAULTS). */
const WIRE: [number, WireFault][] = [
  [0.01, 'hang-before-body'],
  [0.01, 'reset-before-headers-unsent'],
  [0.02, 'reset-before-headers'],
  [0.02, 'reset-after-headers'],
  [0.02, 'garbage'],
  [0.01, { status: 500, nginx: false }],
  [0.01, { status: 502, nginx: true }],
  [0.01, { status: 503, nginx: false }],
  [0.01, { status: 504, nginx: true }],
];
const SIM_FAULTS = { errorRate: 0.03, rate429: 0.03, hangRate: 0.02, resetRate: 0.02 };

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const dbName = `fgw_reliability_${randomBytes(5).toString('hex')}`;
  await pgQuery(BASE_DB, `CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(BASE_DB);
  dbUrl.pathname = `/${dbName}`;
  const sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 60, jitterMs: 40, queueConcurrency: Infinity, ...SIM_FAULTS } });
  let faultsOn = true;
  const wireCounts: Record<string, number> = {};
  const front = await startFaultFal(sim, (c) => {
    if (!faultsOn || c.method !== 'POST') return 'pass';
    let x = Math.random();
    for (const [p, f] of WIRE) {
      if (x < p) return f;
      x -= p;
    }
    return 'pass';
  });
  const fleet = new Fleet({
    FAL_KEY, FAL_RUN_URL: front.runUrl, FAL_QUEUE_URL: front.queueUrl, DATABASE_URL: dbUrl.toString(), REDIS_URL: REDIS, ADMIN_TOKEN: ADMIN,
    RUN_TIMEOUT_MS: '2000', POLL_TIMEOUT_MS: '2000', RECONCILE_INTERVAL_MS: '500', SHUTDOWN_GRACE_MS: '1000', LOG_LEVEL: 'info',
  });
  // Which fal request ids each tagged call became (the sim keeps only its newest 10,000 calls).
  const falIdsByTag = new Map<string, string[]>();
  const snapshot = (): void => {
    for (const c of sim.calls()) {
      const tag = c.headers['x-fal-runner-hint'];
      if (c.method !== 'POST' || typeof tag !== 'string' || c.requestId === undefined) continue;
      const ids = falIdsByTag.get(tag) ?? [];
      if (!ids.includes(c.requestId)) falIdsByTag.set(tag, [...ids, c.requestId]);
    }
  };
  const snapTimer = setInterval(snapshot, 300);
  try {
    await fleet.start();
    const admin = fleet.slots[0]?.proc?.url ?? '';
    const budgets: { keyId: string; key: string; budgetMicro: number | null }[] = [];
    for (let i = 0; i < 6; i++) {
      // Half the keys have a budget the run exhausts: spend must stop at it (overspend 0).
      // Sized to run out about 60 % into the run (a key gets a sixth of the calls, ~$0.024 each).
      const budgetUsd = i % 2 === 0 ? null : Math.max(1, Math.round((REQUESTS / 6) * 0.024 * 0.6));
      const res = await fetch(`${admin}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `rel${i}`, rpm: 1_000_000, ...(budgetUsd === null ? {} : { budget_usd: budgetUsd }) }) });
      const k = (await res.json()) as { id: string; key: string };
      budgets.push({ keyId: k.id, key: k.key, budgetMicro: budgetUsd === null ? null : budgetUsd * 1_000_000 });
    }
    let disruptions = 0;
    let chaosOn = true;
    const chaos = (async () => {
      while (chaosOn) {
        await new Promise((r) => setTimeout(r, CHAOS_S * 1000));
        if (!chaosOn) break;
        const slot = fleet.slots[disruptions % fleet.slots.length];
        if (slot) await fleet.disrupt(slot, disruptions % 4 === 3 ? 'SIGTERM' : 'SIGKILL');
        disruptions++;
      }
    })();
    let lastPrint = Date.now();
    const sent = await runTraffic(fleet, { requests: REQUESTS, deadline: started + MINUTES * 60_000, concurrency: CONCURRENCY, keys: budgets.map((b) => b.key), random: Math.random }, (done) => {
      if (Date.now() - lastPrint > 10_000) {
        lastPrint = Date.now();
        process.stderr.write(`  ${done} requests, ${disruptions} disruptions\n`);
      }
    });
    chaosOn = false;
    await chaos;
    // Faults off; recovery: every row must leave `reserved` (reconciler on both instances).
    faultsOn = false;
    sim.setFaults({ errorRate: 0, rate429: 0, hangRate: 0, resetRate: 0 });
    Object.assign(wireCounts, front.counts());
    const recoveryStart = Date.now();
    const selectRows = `SELECT id, key_id, state, settled_micro, verified, fal_request_id FROM ledger_entries`;
    let rows = await pgQuery<LedgerDbRow>(dbUrl.toString(), selectRows);
    while (rows.some((r) => r.state === 'reserved') && Date.now() - recoveryStart < 120_000) {
      await new Promise((r) => setTimeout(r, 1000));
      rows = await pgQuery<LedgerDbRow>(dbUrl.toString(), selectRows);
    }
    await new Promise((r) => setTimeout(r, 1000)); // queue jobs still running finish and bill
    snapshot();
    rows = await pgQuery<LedgerDbRow>(dbUrl.toString(), selectRows);
    const figures = audit({ sent, rows, billedByRequest: sim.stats().billedByRequest, falIdsByTag, price: PRICE, budgets });
    printFigures(figures, {
      command: `npm run reliability -- --requests ${REQUESTS} --minutes ${MINUTES}`,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
      seconds: Math.round((Date.now() - started) / 1000),
      recoverySeconds: Math.round((Date.now() - recoveryStart) / 1000),
      disruptions,
      wireFaults: wireCounts,
    });
    const bad = figures.unexplainedMicro !== 0 || figures.openRows !== 0 || figures.doubleCharges !== 0 || figures.overspend.keys !== 0 || figures.retryableAfterFalMayHaveRun.total - figures.retryableAfterFalMayHaveRun.onKilledInstance !== 0;
    process.exitCode = bad ? 1 : 0;
  } finally {
    clearInterval(snapTimer);
    await fleet.stop();
    await front.close();
    await sim.close();
    await pgQuery(BASE_DB, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

await main();
