/**
 * S3 / S5 / S5r / S10: maximum throughput, closed loop (autocannon, c=50 or as the
 * plan says, no pipelining), interleaved rounds;
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
export function maxThroughput(variants: Variant[], calls: (v: Variant) => FalCall[], sizes: ThroughputSizes): Promise<ThroughputRow[]> {
  return splitThroughput(
    variants.map((v) => ({ id: v.id, members: [v] })),
    calls,
    sizes,
  );
}

/**
 * A target that is one or several processes behind one figure: several gateway instances on one
 * database, loaded at once with the connections split evenly between them (S10).
 */
export interface LoadGroup {
  id: string;
  members: Variant[];
}

/**
 * maxThroughput over groups: each round loads every member of a group at the same time, each with
 * connections ÷ members; req/s is their sum, CPU per request the members' CPU over all their
 * requests, RSS and event-loop delay the worst member's.
 */
export async function splitThroughput(groups: LoadGroup[], calls: (v: Variant) => FalCall[], sizes: ThroughputSizes): Promise<ThroughputRow[]> {
  const acc = new Map<string, { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; rss: number[]; eld: number[]; non2xx: number; errors: number }>();
  const share = (g: LoadGroup) => Math.max(1, Math.round(sizes.connections / g.members.length));
  for (const g of groups) {
    acc.set(g.id, { rps: [], p50: [], p99: [], cpu: [], rss: [], eld: [], non2xx: 0, errors: 0 });
    for (const v of g.members) v.child.resetPeak();
    if (sizes.warmupSeconds > 0) await Promise.all(g.members.map((v) => cannon(calls(v).map(v.door), { connections: share(g), seconds: sizes.warmupSeconds })));
  }
  for (const order of rotations(groups, sizes.rounds)) {
    for (const g of order) {
      const a = acc.get(g.id);
      if (a === undefined) continue;
      // probe() resets each child's event-loop delay histogram.
      await Promise.all(g.members.map((v) => v.child.probe()));
      const before = g.members.map((v) => v.child.sample());
      const rs = await Promise.all(g.members.map((v) => cannon(calls(v).map(v.door), { connections: share(g), seconds: sizes.seconds })));
      const after = g.members.map((v) => v.child.sample());
      const probes = await Promise.all(g.members.map((v) => v.child.probe()));
      const requests = rs.reduce((s, r) => s + r.requests, 0);
      const cpuUs = after.reduce((s, x, i) => s + x.cpuUs - (before[i]?.cpuUs ?? x.cpuUs), 0);
      a.rps.push(rs.reduce((s, r) => s + r.rps, 0));
      a.p50.push(Math.max(...rs.map((r) => r.p50Ms)));
      a.p99.push(Math.max(...rs.map((r) => r.p99Ms)));
      a.cpu.push(requests > 0 ? cpuUs / requests : NaN);
      a.rss.push(Math.max(...after.map((x) => x.rssMb)));
      a.eld.push(Math.max(...probes.map((p) => p?.eld.p99Ms ?? NaN)));
      a.non2xx += rs.reduce((s, r) => s + r.non2xx, 0);
      a.errors += rs.reduce((s, r) => s + r.errors, 0);
    }
  }
  return groups.map((g) => {
    const a = acc.get(g.id);
    if (a === undefined) throw new Error(`no results for ${g.id}`);
    return {
      id: g.id,
      rps: median(a.rps),
      rpsIqr: iqr(a.rps),
      rounds: a.rps,
      p50Ms: median(a.p50),
      p99Ms: median(a.p99),
      cpuUsPerReq: median(a.cpu),
      rssMb: median(a.rss),
      peakRssMb: Math.max(...g.members.map((v) => v.child.sample().hwmMb)),
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
