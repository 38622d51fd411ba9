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
  s6?: MixRow[];
  s7?: BigBodyRow[];
  s9?: SoakResult;
  ratios: {
    s1?: Record<string, { p50VsDirect: number; p99VsDirect: number }>;
    s2?: Record<string, { p50VsDirect: number; p99VsDirect: number }>;
    s3?: Record<string, { vsDirect: number; vsReplyFrom: number; vsServerProxy: number; vsNodeHttp: number }>;
    s5?: Record<string, { vsDirect: number; vsReplyFrom: number }>;
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
