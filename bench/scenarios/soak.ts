/**
 * S9: a short soak. The S6 mix runs continuously (job slots resubmit as their jobs finish) on top of
 * a paced status load at a fraction of the variant's S3 maximum; RSS and open fds are sampled from
 * /proc every `sampleMs`, and their least-squares slope is taken after the first third (warm-up).
 */
import type { Fleet } from '../lib/fleet.js';
import { paced } from '../lib/load.js';
import { quantile, slope } from '../lib/stats.js';
import { statusCall, type Variant } from '../lib/targets.js';
import { mixLoad, type MixSizes } from './mix.js';

export interface SoakSizes {
  seconds: number;
  sampleMs: number;
  statusRate: number;
  mix: MixSizes;
}

export interface SoakResult {
  id: string;
  seconds: number;
  statusRate: number;
  statusP99Ms: number;
  mixJobs: number;
  errors: number;
  rssStartMb: number;
  rssEndMb: number;
  /** Open fds at the end of warm-up (the first third) and at the end. */
  fdsStart: number;
  fdsEnd: number;
  /** After warm-up, MB per minute. */
  rssSlopeMbPerMin: number;
  fdSlopePerMin: number;
  samples: { t: number; rssMb: number; fds: number }[];
}

export async function soak(fleet: Fleet, v: Variant, sizes: SoakSizes): Promise<SoakResult> {
  await fleet.setFaults({ latencyMs: sizes.mix.jobMs, jitterMs: sizes.mix.jitterMs });
  const samples: SoakResult['samples'] = [];
  const t0 = performance.now();
  const take = () => {
    const s = v.child.sample();
    samples.push({ t: (performance.now() - t0) / 1000, rssMb: s.rssMb, fds: s.fds });
  };
  take();
  const sampler = setInterval(take, sizes.sampleMs);
  try {
    const [status, mix] = await Promise.all([
      paced(v.statusIds.map((id) => v.door(statusCall(id))), { rate: sizes.statusRate, seconds: sizes.seconds, connections: 20 }),
      mixLoad(v, sizes.mix, t0 + sizes.seconds * 1000),
    ]);
    // Only samples taken while the load ran: afterwards idle keep-alive sockets close.
    const steady = samples.filter((s) => s.t >= sizes.seconds / 3 && s.t <= sizes.seconds);
    const first = samples[0];
    const warm = steady[0];
    const last = samples[samples.length - 1];
    return {
      id: v.id,
      seconds: (performance.now() - t0) / 1000,
      statusRate: sizes.statusRate,
      statusP99Ms: quantile(status.latenciesUs, 0.99) / 1000,
      mixJobs: mix.jobs,
      errors: status.errors + mix.errors,
      rssStartMb: first?.rssMb ?? NaN,
      rssEndMb: last?.rssMb ?? NaN,
      fdsStart: warm?.fds ?? NaN,
      fdsEnd: last?.fds ?? NaN,
      rssSlopeMbPerMin: slope(steady.map((s) => ({ x: s.t / 60, y: s.rssMb }))),
      fdSlopePerMin: slope(steady.map((s) => ({ x: s.t / 60, y: s.fds }))),
      samples,
    };
  } finally {
    clearInterval(sampler);
    await fleet.setFaults({ latencyMs: 50, jitterMs: 0 });
  }
}
