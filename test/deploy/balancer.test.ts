/**
 * The compose topology without Docker: the machine's Postgres (a fresh database) and Redis (its own
 * DB index), two gateway processes, and Debian's haproxy running deploy/haproxy/haproxy.cfg, the
 * same file compose.yaml mounts (only addresses come from the environment). Smoke tests through
 * the balancer: shared keys, a budget race, a replica killed mid-traffic, queue URLs on the
 * balancer's origin, and a rolling restart with no failed request.
 *
 * Installs nothing: .ci/run installs haproxy. Skipped (with a message) when haproxy or the
 * databases are missing, unless CI=true or DEPLOY_TEST_REQUIRED=1, where that is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { trafficUntil, waitFor } from './traffic.js';

const haproxy = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
const dbBase = process.env.TEST_DATABASE_URL;
const redisBase = process.env.TEST_REDIS_URL;
const required = process.env.CI === 'true' || process.env.DEPLOY_TEST_REQUIRED === '1';
const missing = haproxy === undefined ? 'haproxy is not installed (apt-get install haproxy)' : !dbBase || !redisBase ? 'TEST_DATABASE_URL / TEST_REDIS_URL are not set' : undefined;
if (missing !== undefined && !required) console.warn(`balancer deploy test skipped: ${missing}`);

describe.runIf(missing !== undefined && required)('balancer deploy test prerequisites', () => {
  it('has haproxy, Postgres and Redis (required in CI)', () => {
    throw new Error(`balancer deploy test cannot run: ${missing ?? ''}`);
  });
});

const FAL_KEY = 'fal_balancer_test_key';
const ADMIN = 'admin-token-for-balancer-tests';
const RUN = '/fal-ai/stable-diffusion-v35-medium';
const SUBMIT = '/queue/fal-ai/stable-diffusion-v35-medium';
/** A restarted replica is back in rotation after haproxy's rise 2 x inter 1s; wait that out, twice over. */
const REJOIN_MS = 4_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 0));
    });
  });
}

describe.skipIf(missing !== undefined)('two replicas behind haproxy (compose topology)', () => {
  const dbName = `fgw_deploy_${randomBytes(6).toString('hex')}`;
  let sim: FalSim;
  let lb: ChildProcess | undefined;
  let lbUrl = '';
  const ports: number[] = [];
  const gws: (GatewayProcess | undefined)[] = [undefined, undefined];
  let env: Record<string, string> = {};

  const start = async (i: number) => {
    gws[i] = await startGatewayProcess({ ...env, PORT: String(ports[i + 1]) });
  };
  const admin = (base: string, path: string, body?: unknown) =>
    fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const run = (base: string, key: string) =>
    fetch(base + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'lb', image_size: 'square' }) }).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status;
      },
      () => 0,
    );
  const directUrl = (i: number) => `http://127.0.0.1:${ports[i + 1] ?? 0}`;

  beforeAll(async () => {
    const c = new pg.Client({ connectionString: dbBase });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const db = new URL(dbBase ?? '');
    db.pathname = `/${dbName}`;
    const redis = new URL(redisBase ?? '');
    redis.pathname = '/13'; // a DB index of its own: nothing here collides with other tests' counters
    sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 150 } });
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    lbUrl = `http://127.0.0.1:${ports[0] ?? 0}`;
    env = {
      FAL_KEY,
      FAL_RUN_URL: sim.runUrl,
      FAL_QUEUE_URL: sim.queueUrl,
      DATABASE_URL: db.toString(),
      REDIS_URL: redis.toString(),
      ADMIN_TOKEN: ADMIN,
      HOST: '127.0.0.1',
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_RPM: '100000',
      // Above haproxy's inter 1s x fall 2, with room for a loaded machine.
      SHUTDOWN_DRAIN_MS: '3000',
      SHUTDOWN_GRACE_MS: '10000',
    };
    await Promise.all([start(0), start(1)]);
    lb = spawn(haproxy ?? 'haproxy', ['-db', '-f', 'deploy/haproxy/haproxy.cfg'], {
      env: { PATH: process.env.PATH, LB_BIND: `127.0.0.1:${ports[0] ?? 0}`, GW1_ADDR: `127.0.0.1:${ports[1] ?? 0}`, GW2_ADDR: `127.0.0.1:${ports[2] ?? 0}` },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(async () => (await fetch(`${lbUrl}/readyz`).then((r) => r.status, () => 0)) === 200, 'the balancer to answer');
  }, 90_000);

  afterAll(async () => {
    lb?.kill('SIGTERM');
    await Promise.all(gws.map((g) => g?.stop() ?? Promise.resolve()));
    await sim?.close();
    const c = new pg.Client({ connectionString: dbBase });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  }, 60_000);

  it('a key created on one replica works on the other and through the balancer', async () => {
    const { key } = (await admin(directUrl(0), '/admin/keys', { name: 'shared' })) as { key: string };
    expect(await run(directUrl(1), key)).toBe(200);
    expect(await run(lbUrl, key)).toBe(200);
  });

  it('never overspends a budget raced across both replicas through the balancer', async () => {
    sim.setFaults({ latencyMs: 600 });
    try {
      const { id, key } = (await admin(lbUrl, '/admin/keys', { name: 'race', budget_usd: 0.1 })) as { id: string; key: string };
      const statuses = await Promise.all(Array.from({ length: 16 }, () => run(lbUrl, key)));
      const ok = statuses.filter((s) => s === 200).length;
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThanOrEqual(5); // $0.10 at $0.02 an image
      expect(statuses.filter((s) => s !== 200 && s !== 402)).toEqual([]);
      const usage = (await admin(lbUrl, `/admin/usage?key_id=${id}`)) as { total_usd: number; reserved_usd: number };
      expect(usage.reserved_usd).toBe(0);
      expect(usage.total_usd).toBeCloseTo(ok * 0.02, 6);
      expect(usage.total_usd).toBeLessThanOrEqual(0.1);
    } finally {
      sim.setFaults({ latencyMs: 150 });
    }
  }, 60_000);

  it("writes queue URLs on the balancer's origin, and they work through it", async () => {
    const { key } = (await admin(lbUrl, '/admin/keys', { name: 'queue' })) as { key: string };
    const headers = { authorization: `Key ${key}`, 'content-type': 'application/json' };
    const sub = (await (await fetch(lbUrl + SUBMIT, { method: 'POST', headers, body: JSON.stringify({ prompt: 'q', image_size: 'square' }) })).json()) as Record<string, string>;
    for (const u of ['status_url', 'response_url', 'cancel_url']) expect(sub[u]?.startsWith(`${lbUrl}/queue/`)).toBe(true);
    await waitFor(async () => ((await (await fetch(sub.status_url ?? '', { headers })).json()) as { status: string }).status === 'COMPLETED', 'the job to complete');
    const result = await fetch(sub.response_url ?? '', { headers });
    expect(result.status).toBe(200);
    await result.arrayBuffer();
  }, 60_000);

  it('routes around a replica killed mid-traffic', async () => {
    const { key } = (await admin(lbUrl, '/admin/keys', { name: 'kill' })) as { key: string };
    let killedAt = Number.POSITIVE_INFINITY;
    const results = await trafficUntil(4, () => run(lbUrl, key), async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      gws[1]?.child.kill('SIGKILL');
      killedAt = Date.now();
      await gws[1]?.exited;
      await new Promise((r) => setTimeout(r, 3_000));
    });
    // Requests in flight on the killed replica are lost with it (502, at most one per worker);
    // every request that started after the kill was served by the other replica.
    const after = results.filter((r) => r.startedAt > killedAt + 50);
    expect(after.length).toBeGreaterThan(4);
    expect(after.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.filter((r) => r.status !== 200).length).toBeLessThanOrEqual(4);
    await start(1);
    await new Promise((r) => setTimeout(r, REJOIN_MS));
  }, 90_000);

  it('has no failed request during a rolling restart (SIGTERM one replica, start it, then the other)', async () => {
    const { key } = (await admin(lbUrl, '/admin/keys', { name: 'rolling' })) as { key: string };
    const results = await trafficUntil(3, () => run(lbUrl, key), async () => {
      for (const i of [0, 1]) {
        await gws[i]?.stop();
        await start(i);
        await new Promise((r) => setTimeout(r, REJOIN_MS));
      }
    });
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
  }, 120_000);
});
