/**
 * S6: the realistic mix. Each job is submitted once, then polled by `pollersPerJob` clients every
 * `pollMs` (what @fal-ai/client does: 500 ms), each starting at a random phase, until COMPLETED;
 * then one of them fetches the result. fal's side of the wire is read from the sim's `/_sim/stats`
 * before and after, which gives upstream status calls per client poll: 1 for a plain relay, less
 * when the gateway coalesces pollers of one request.
 */
import { Pool } from 'undici';
import type { Fleet } from '../lib/fleet.js';
import { resultCall, statusCall, submitCall, type HttpSpec, type Variant } from '../lib/targets.js';

export interface MixSizes {
  jobs: number;
  pollersPerJob: number;
  pollMs: number;
  /** Simulated generation time, ± jitter. */
  jobMs: number;
  jitterMs: number;
}

export interface MixCounts {
  jobs: number;
  clientPolls: number;
  clientResults: number;
  /** Σ over jobs of the time from first poll to COMPLETED, in s. */
  polledSeconds: number;
  errors: number;
}

export interface MixRow extends MixCounts {
  id: string;
  upstreamStatus: number;
  upstreamResult: number;
  upstreamSubmit: number;
  upstreamPerClientPoll: number;
  upstreamStatusPerJobSecond: number;
  clientPollsPerJobSecond: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function send(pool: Pool, spec: HttpSpec): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await pool.request({ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body ?? null });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // non-JSON answers count as errors below
  }
  return { status: res.statusCode, json };
}

/** One job's life: submit, poll with every poller until COMPLETED, fetch the result. */
async function oneJob(pool: Pool, v: Variant, sizes: MixSizes, counts: MixCounts): Promise<void> {
  const sub = await send(pool, v.door(submitCall()));
  const id = sub.json.request_id;
  if (sub.status !== 200 || typeof id !== 'string') {
    counts.errors++;
    return;
  }
  counts.jobs++;
  const firstPollAt = performance.now();
  let completedAt = 0;
  const poller = async (): Promise<void> => {
    await sleep(Math.random() * sizes.pollMs);
    for (;;) {
      const s = await send(pool, v.door(statusCall(id)));
      counts.clientPolls++;
      if (s.status < 200 || s.status >= 300) {
        counts.errors++;
        return;
      }
      if (s.json.status === 'COMPLETED') {
        completedAt ||= performance.now();
        return;
      }
      await sleep(sizes.pollMs);
    }
  };
  await Promise.all(Array.from({ length: sizes.pollersPerJob }, poller));
  counts.polledSeconds += ((completedAt || performance.now()) - firstPollAt) / 1000;
  const r = await send(pool, v.door(resultCall(id)));
  counts.clientResults++;
  if (r.status !== 200) counts.errors++;
}

/**
 * Runs `sizes.jobs` job slots; each runs one job, or jobs back to back until `deadline`
 * (performance.now() ms) when given (the soak).
 */
export async function mixLoad(v: Variant, sizes: MixSizes, deadline?: number): Promise<MixCounts> {
  const spec = v.door(submitCall());
  const pool = new Pool(spec.origin, { connections: sizes.jobs * (sizes.pollersPerJob + 1), keepAliveTimeout: 60_000 });
  const counts: MixCounts = { jobs: 0, clientPolls: 0, clientResults: 0, polledSeconds: 0, errors: 0 };
  const slot = async (i: number): Promise<void> => {
    await sleep((i / sizes.jobs) * 1000); // ramp submits over a second
    do {
      await oneJob(pool, v, sizes, counts).catch(() => {
        counts.errors++;
      });
    } while (deadline !== undefined && performance.now() < deadline);
  };
  await Promise.all(Array.from({ length: sizes.jobs }, (_, i) => slot(i)));
  await pool.close();
  return counts;
}

export async function realisticMix(fleet: Fleet, variants: Variant[], sizes: MixSizes): Promise<MixRow[]> {
  await fleet.setFaults({ latencyMs: sizes.jobMs, jitterMs: sizes.jitterMs });
  const rows: MixRow[] = [];
  try {
    for (const v of variants) {
      const before = (await fleet.simStats()).calls;
      const c = await mixLoad(v, sizes);
      await sleep(300); // let background settlement fetches land in the count
      const after = (await fleet.simStats()).calls;
      const delta = (op: string) => (after[op] ?? 0) - (before[op] ?? 0);
      rows.push({
        id: v.id,
        ...c,
        upstreamStatus: delta('status'),
        upstreamResult: delta('result'),
        upstreamSubmit: delta('submit'),
        upstreamPerClientPoll: c.clientPolls > 0 ? delta('status') / c.clientPolls : NaN,
        upstreamStatusPerJobSecond: c.polledSeconds > 0 ? delta('status') / c.polledSeconds : NaN,
        clientPollsPerJobSecond: c.polledSeconds > 0 ? c.clientPolls / c.polledSeconds : NaN,
      });
    }
  } finally {
    await fleet.setFaults({ latencyMs: 50, jitterMs: 0 });
  }
  return rows;
}
