/**
 * S3 / S5: maximum throughput, closed loop (autocannon, c=50, no pipelining), interleaved rounds;
 * req/s is the median of rounds, with the server's CPU time per request (from /proc), RSS, peak RSS
 * and event-loop delay. S4: latency at a fixed rate of 50 % of the variant's own S3 maximum, open
 * loop, measured twice: paced (scheduled-time latency) and with autocannon's `overallRate`.
 */
import { cannon, paced } from '../lib/load.js';
import { iqr, median, quantile, rotations } from '../lib/stats.js';
import type { FalCall, Variant } from '../lib/targets.js';

export interface ThroughputSizes {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

export interface ThroughputRow {
  id: string;
  rps: number;
  rpsIqr: number;
  rounds: number[];
  p50Ms: number;
  p99Ms: number;
  cpuUsPerReq: number;
  rssMb: number;
  peakRssMb: number;
  eldP99Ms: number;
  non2xx: number;
  errors: number;
}

/** `calls(v)`: the requests to send; load connection i sends calls[i % n] (e.g. its own queue request). */
export async function maxThroughput(variants: Variant[], calls: (v: Variant) => FalCall[], sizes: ThroughputSizes): Promise<ThroughputRow[]> {
  const acc = new Map<string, { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; rss: number[]; eld: number[]; non2xx: number; errors: number }>();
  for (const v of variants) {
    acc.set(v.id, { rps: [], p50: [], p99: [], cpu: [], rss: [], eld: [], non2xx: 0, errors: 0 });
    v.child.resetPeak();
    if (sizes.warmupSeconds > 0) await cannon(calls(v).map(v.door), { connections: sizes.connections, seconds: sizes.warmupSeconds });
  }
  for (const order of rotations(variants, sizes.rounds)) {
    for (const v of order) {
      const a = acc.get(v.id);
      if (a === undefined) continue;
      await v.child.probe(); // resets the child's event-loop delay histogram
      const before = v.child.sample();
      const r = await cannon(calls(v).map(v.door), { connections: sizes.connections, seconds: sizes.seconds });
      const after = v.child.sample();
      const probe = await v.child.probe();
      a.rps.push(r.rps);
      a.p50.push(r.p50Ms);
      a.p99.push(r.p99Ms);
      a.cpu.push(r.requests > 0 ? (after.cpuUs - before.cpuUs) / r.requests : NaN);
      a.rss.push(after.rssMb);
      a.eld.push(probe?.eld.p99Ms ?? NaN);
      a.non2xx += r.non2xx;
      a.errors += r.errors;
    }
  }
  return variants.map((v) => {
    const a = acc.get(v.id);
    if (a === undefined) throw new Error(`no results for ${v.id}`);
    return {
      id: v.id,
      rps: median(a.rps),
      rpsIqr: iqr(a.rps),
      rounds: a.rps,
      p50Ms: median(a.p50),
      p99Ms: median(a.p99),
      cpuUsPerReq: median(a.cpu),
      rssMb: median(a.rss),
      peakRssMb: v.child.sample().hwmMb,
      eldP99Ms: median(a.eld),
      non2xx: a.non2xx,
      errors: a.errors,
    };
  });
}

export interface FixedRateRow {
  id: string;
  rate: number;
  /** Paced open loop, latency from each request's scheduled time. */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** autocannon `overallRate` at the same rate (per-second bursts; its own CO correction). */
  cannonP99Ms: number;
  errors: number;
}

export async function fixedRate(
  variants: Variant[],
  calls: (v: Variant) => FalCall[],
  maxRps: Map<string, number>,
  sizes: { seconds: number; cannonSeconds: number; connections: number; fraction: number; withCannon: boolean },
): Promise<FixedRateRow[]> {
  const rows: FixedRateRow[] = [];
  for (const v of variants) {
    const max = maxRps.get(v.id);
    if (max === undefined || !Number.isFinite(max)) continue;
    const rate = max * sizes.fraction;
    const specs = calls(v).map(v.door);
    const p = await paced(specs, { rate, seconds: sizes.seconds, connections: sizes.connections });
    const c = sizes.withCannon ? await cannon(specs, { connections: sizes.connections, seconds: sizes.cannonSeconds, overallRate: rate }) : undefined;
    rows.push({
      id: v.id,
      rate,
      p50Ms: quantile(p.latenciesUs, 0.5) / 1000,
      p99Ms: quantile(p.latenciesUs, 0.99) / 1000,
      p999Ms: quantile(p.latenciesUs, 0.999) / 1000,
      cannonP99Ms: c?.p99Ms ?? NaN,
      errors: p.errors + (c === undefined ? 0 : c.errors + c.non2xx),
    });
  }
  return rows;
}
