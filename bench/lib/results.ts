/** The shape of one run's results (written as JSON to bench/results/) and the same-run ratios. */
import type { BigBodyRow } from '../scenarios/big-bodies.js';
import type { LatencyRow } from '../scenarios/latency.js';
import type { MixRow } from '../scenarios/mix.js';
import type { SoakResult } from '../scenarios/soak.js';
import type { FixedRateRow, ThroughputRow } from '../scenarios/throughput.js';
import type { MachineInfo } from './machine.js';
import type { Noise } from './noise.js';
import { ratio } from './stats.js';
import type { VariantKind } from './targets.js';

export interface Verdict {
  target: string;
  variant: string;
  measured: string;
  met: boolean | null;
  note: string;
}

export interface Results {
  meta: {
    startedAt: string;
    mode: 'smoke' | 'full';
    command: string;
    seconds: number;
    machine: MachineInfo;
    pinned: boolean;
    postgres: boolean;
    /** "n/a": the gateway has no RATE_LIMIT_RPM yet; else how limits were configured. */
    rateLimits: string;
    buildWarnings: string;
    noise?: Noise;
    notes: string[];
  };
  variants: { id: string; label: string; kind: VariantKind }[];
  idle: Record<string, { rssMb: number; fds: number; heapUsedMb: number; externalMb: number }>;
  s1?: LatencyRow[];
  s2?: LatencyRow[];
  s3?: ThroughputRow[];
  s4?: FixedRateRow[];
  s5?: ThroughputRow[];
  /** S5r with the sim rendering each answer (judged), and replaying one (sync-run.ts). */
  s5r?: ThroughputRow[];
  s5rReplayed?: ThroughputRow[];
  s6?: MixRow[];
  s7?: BigBodyRow[];
  s9?: SoakResult;
  /** Rows: the two Postgres instances together (scale-out.ts PG_PAIR), gw-pg alone, gw-prod. */
  s10?: ThroughputRow[];
  ratios: {
    s1?: Record<string, { p50VsDirect: number; p99VsDirect: number }>;
    s2?: Record<string, { p50VsDirect: number; p99VsDirect: number }>;
    s3?: Record<string, { vsDirect: number; vsReplyFrom: number; vsServerProxy: number; vsNodeHttp: number }>;
    s5?: Record<string, { vsDirect: number; vsReplyFrom: number }>;
    s5r?: Record<string, { vsDirect: number; vsNodeHttp: number }>;
    s5rReplayed?: Record<string, { vsDirect: number; vsNodeHttp: number }>;
    /** Each row against one Postgres instance and against SQLite gw-prod, same run. */
    s10?: Record<string, { vsOnePg: number; vsSqlite: number }>;
    s7?: Record<string, Record<string, { vsDirect: number; vsNodeHttp: number }>>;
  };
  verdicts: Verdict[];
}

const byId = <T extends { id: string }>(rows: readonly T[] | undefined, id: string): T | undefined => rows?.find((r) => r.id === id);

export function computeRatios(r: Results): Results['ratios'] {
  const out: Results['ratios'] = {};
  const latency = (rows: LatencyRow[] | undefined) => {
    const d = byId(rows, 'direct');
    return rows === undefined ? undefined : Object.fromEntries(rows.map((x) => [x.id, { p50VsDirect: ratio(x.p50Us, d?.p50Us), p99VsDirect: ratio(x.p99Us, d?.p99Us) }]));
  };
  out.s1 = latency(r.s1);
  out.s2 = latency(r.s2);
  if (r.s3 !== undefined) {
    const rps = (id: string) => byId(r.s3, id)?.rps;
    out.s3 = Object.fromEntries(
      r.s3.map((x) => [x.id, { vsDirect: ratio(x.rps, rps('direct')), vsReplyFrom: ratio(x.rps, rps('reply-from')), vsServerProxy: ratio(x.rps, rps('server-proxy')), vsNodeHttp: ratio(x.rps, rps('node-http')) }]),
    );
  }
  if (r.s5 !== undefined) {
    const rps = (id: string) => byId(r.s5, id)?.rps;
    out.s5 = Object.fromEntries(r.s5.map((x) => [x.id, { vsDirect: ratio(x.rps, rps('direct')), vsReplyFrom: ratio(x.rps, rps('reply-from')) }]));
  }
  const vsBaselines = (rows: ThroughputRow[] | undefined) =>
    rows === undefined ? undefined : Object.fromEntries(rows.map((x) => [x.id, { vsDirect: ratio(x.rps, byId(rows, 'direct')?.rps), vsNodeHttp: ratio(x.rps, byId(rows, 'node-http')?.rps) }]));
  out.s5r = vsBaselines(r.s5r);
  out.s5rReplayed = vsBaselines(r.s5rReplayed);
  if (r.s10 !== undefined) {
    const rps = (id: string) => byId(r.s10, id)?.rps;
    out.s10 = Object.fromEntries(r.s10.map((x) => [x.id, { vsOnePg: ratio(x.rps, rps('gw-pg')), vsSqlite: ratio(x.rps, rps('gw-prod')) }]));
  }
  if (r.s7 !== undefined) {
    const s7: Record<string, Record<string, { vsDirect: number; vsNodeHttp: number }>> = {};
    for (const row of r.s7) {
      const same = (id: string) => r.s7?.find((x) => x.size === row.size && x.id === id)?.rps;
      (s7[row.size] ??= {})[row.id] = { vsDirect: ratio(row.rps, same('direct')), vsNodeHttp: ratio(row.rps, same('node-http')) };
    }
    out.s7 = s7;
  }
  return out;
}
