/**
 * S7: large `sync_mode` answers. The sim returns PNG data URIs (its patterns compress well, so the
 * sizes below were picked by measurement to give ~1, ~4 and ~8 MB bodies; the real size is read
 * from a direct answer and reported). The prompt carries `[bench:replay]`: the sim builds each size
 * once and bench/servers/sim.ts replays that answer, so the upstream costs the same for every
 * variant and little enough that the proxies, not the sim's encoder, set the pace. Phase 1: c=10 fast readers, closed loop: req/s and peak RSS.
 * Phase 2 (some sizes): the same load plus slow readers at ~256 KB/s over raw sockets: peak RSS and
 * RSS growth show whether the proxy buffers bodies for slow clients.
 */
import type { Fleet } from '../lib/fleet.js';
import { cannon } from '../lib/load.js';
import { slowReader } from '../lib/slow-reader.js';
import { median, rotations } from '../lib/stats.js';
import { syncCall, type Variant } from '../lib/targets.js';

export interface BodySize {
  label: string;
  width: number;
  height: number;
  numImages: number;
}

export const BODY_SIZES: readonly BodySize[] = [
  { label: '1 MB', width: 2880, height: 2880, numImages: 1 },
  { label: '4 MB', width: 2880, height: 2880, numImages: 4 },
  { label: '8 MB', width: 5248, height: 5248, numImages: 4 },
];

export interface BigBodySizes {
  seconds: number;
  rounds: number;
  connections: number;
  slowReaders: number;
  slowSeconds: number;
  slowBytesPerSec: number;
  /** Labels of the sizes that also get the slow-reader phase. */
  slowFor: readonly string[];
}

export interface BigBodyRow {
  size: string;
  bodyBytes: number;
  id: string;
  rps: number;
  mbPerSec: number;
  /** CPU time of the variant's process per response (the sim's replay front for direct). */
  cpuMsPerReq: number;
  peakRssMb: number;
  slow?: { peakRssMb: number; rssBeforeMb: number; rssAfterMb: number; fastRps: number; slowKbPerSec: number };
  errors: number;
}

export const syncBody = (s: BodySize): string =>
  JSON.stringify({ prompt: 'bench large body [bench:replay]', image_size: { width: s.width, height: s.height }, num_images: s.numImages, output_format: 'png', sync_mode: true, seed: 42 });

export async function bigBodies(fleet: Fleet, variants: Variant[], sizes: BigBodySizes): Promise<BigBodyRow[]> {
  const direct = fleet.byId('direct');
  if (direct === undefined) throw new Error('S7 needs the direct variant');
  await fleet.setFaults({ latencyMs: 0 });
  const rows: BigBodyRow[] = [];
  try {
    for (const size of BODY_SIZES) {
      const call = syncCall(syncBody(size));
      // The first answer of a size renders and encodes the PNG (seconds); it also gives the size.
      const spec = direct.door(call);
      const res = await fetch(`${spec.origin}${spec.path}`, { method: 'POST', headers: spec.headers, body: spec.body ?? null });
      const bodyBytes = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200) throw new Error(`S7 ${size.label}: the sim answered ${res.status}`);
      const acc = new Map<string, { rps: number[]; mbps: number[]; cpu: number[]; peak: number; errors: number }>();
      for (const order of rotations(variants, sizes.rounds)) {
        for (const v of order) {
          v.child.resetPeak();
          const before = v.child.sample();
          const r = await cannon(v.door(call), { connections: sizes.connections, seconds: sizes.seconds, timeoutS: 30 });
          const after = v.child.sample();
          const a = acc.get(v.id) ?? { rps: [], mbps: [], cpu: [], peak: 0, errors: 0 };
          a.cpu.push(r.requests > 0 ? (after.cpuUs - before.cpuUs) / 1000 / r.requests : NaN);
          a.rps.push(r.rps);
          a.mbps.push(r.bytesPerSec / 1e6);
          a.peak = Math.max(a.peak, after.hwmMb);
          a.errors += r.errors + r.non2xx;
          acc.set(v.id, a);
        }
      }
      for (const v of variants) {
        const a = acc.get(v.id);
        if (a === undefined) continue;
        const row: BigBodyRow = { size: size.label, bodyBytes, id: v.id, rps: median(a.rps), mbPerSec: median(a.mbps), cpuMsPerReq: median(a.cpu), peakRssMb: a.peak, errors: a.errors };
        if (sizes.slowFor.includes(size.label)) row.slow = await withSlowReaders(v, call, sizes);
        rows.push(row);
      }
    }
  } finally {
    await fleet.setFaults({ latencyMs: 50 });
  }
  return rows;
}

async function withSlowReaders(v: Variant, call: ReturnType<typeof syncCall>, sizes: BigBodySizes): Promise<NonNullable<BigBodyRow['slow']>> {
  v.child.resetPeak();
  const before = v.child.sample();
  const readers = Array.from({ length: sizes.slowReaders }, () => slowReader(v.door(call), sizes.slowBytesPerSec));
  const r = await cannon(v.door(call), { connections: sizes.connections, seconds: sizes.slowSeconds, timeoutS: 30 });
  const after = v.child.sample();
  const slowBytes = readers.reduce((s, x) => s + x.bytes(), 0);
  for (const x of readers) x.stop();
  return {
    peakRssMb: after.hwmMb,
    rssBeforeMb: before.rssMb,
    rssAfterMb: after.rssMb,
    fastRps: r.rps,
    slowKbPerSec: slowBytes / 1024 / sizes.slowSeconds / Math.max(1, sizes.slowReaders),
  };
}
