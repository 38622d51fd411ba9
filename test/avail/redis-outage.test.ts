/**
 * Redis down must not take the API down (issue #9 item 10). The real server entry runs against a
 * throwaway redis-server that the test stops and restarts: while it is gone, authenticated calls
 * still answer (rate limits count per instance, and still refuse past the limit), /readyz stays
 * ready but reports `degraded` and `redis: unreachable`, the switch and the recovery are each
 * logged once as JSON, and nothing but JSON reaches stdout/stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { throwawayRedis, type ThrowawayRedis } from '../helpers/throwaway-servers.js';

const FAL_KEY = 'fal_redis_outage_key';
const ADMIN = 'admin-token-redis-outage';

describe('Redis outage', () => {
  let redis: ThrowawayRedis;
  let sim: FalSim;
  let child: ChildProcess;
  let url = '';
  let stdout = '';
  let stderr = '';
  const dir = mkdtempSync(join(tmpdir(), 'fgw-redis-'));

  beforeAll(async () => {
    redis = await throwawayRedis();
    sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 5 } });
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ENV_FILE: 'off', FAL_KEY, ADMIN_TOKEN: ADMIN, FAL_RUN_URL: sim.runUrl, FAL_QUEUE_URL: sim.queueUrl, REDIS_URL: redis.url, DATABASE_URL: `sqlite:${join(dir, 'gw.db')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stdout}${stderr}`)), 30_000);
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    redis.freeze(false);
    await redis.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const createKey = async (rpm: number) => {
    const res = await fetch(`${url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'r', rpm }) });
    return ((await res.json()) as { key: string }).key;
  };
  const run = async (key: string) => {
    const r = await fetch(`${url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', image_size: 'square' }) });
    await r.arrayBuffer();
    return r.status;
  };
  const ready = async () => (await (await fetch(`${url}/readyz`)).json()) as { status: string; degraded: boolean; store: string; redis: string };
  const until = async (what: () => Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await what()) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  };
  const logLines = () => stdout.split('\n').filter(Boolean);

  it('keeps answering with per-instance limits while Redis is down, reports it, and recovers by itself', async () => {
    expect(await until(async () => (await ready()).redis === 'ok', 15_000)).toBe(true);
    expect(await ready()).toEqual({ status: 'ready', degraded: false, store: 'ok', redis: 'ok' });
    const key = await createKey(1000);
    expect(await run(key)).toBe(200);

    await redis.stop();
    expect(await until(async () => (await ready()).redis === 'unreachable', 15_000)).toBe(true);
    const r = await fetch(`${url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready', degraded: true, store: 'ok', redis: 'unreachable' });

    // Authenticated calls still work, and the limit still holds (counted in this instance).
    for (let i = 0; i < 5; i++) expect(await run(key)).toBe(200);
    const limited = await createKey(3);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await run(limited));
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    await redis.start();
    expect(await until(async () => (await ready()).redis === 'ok', 20_000)).toBe(true);
    expect(await ready()).toMatchObject({ degraded: false });
    expect(await run(key)).toBe(200);
    // Counters are in Redis again.
    const probe = new Redis(redis.url);
    try {
      expect((await probe.keys('fgw-rl:*')).length).toBeGreaterThan(0);
    } finally {
      probe.disconnect();
    }

    const lines = logLines();
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(lines.filter((l) => l.includes('Redis unreachable'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('Redis reachable again'))).toHaveLength(1);
    expect(stderr).not.toMatch(/ioredis/i);
    expect(stderr).toBe('');
  }, 90_000);

  it('falls back the same way when Redis is frozen (accepts connections, never answers)', async () => {
    expect(await until(async () => (await ready()).redis === 'ok', 15_000)).toBe(true);
    const key = await createKey(1000);
    redis.freeze(true);
    try {
      // The first call waits out ioredis's command timeout at most once, then counts locally.
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await run(key));
      expect(statuses).toEqual([200, 200, 200, 200]);
      expect(await ready()).toMatchObject({ status: 'ready', degraded: true, redis: 'unreachable' });
    } finally {
      redis.freeze(false);
    }
    expect(await until(async () => (await ready()).redis === 'ok', 20_000)).toBe(true);
    expect(logLines().filter((l) => l.includes('Redis unreachable'))).toHaveLength(2);
    expect(stderr).toBe('');
  }, 90_000);
});
