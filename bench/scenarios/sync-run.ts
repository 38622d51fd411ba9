/**
 * S5r: the sync path at maximum throughput — a small generation on the run origin
 * (`POST https://fal.run/fal-ai/stable-diffusion-v35-medium`, no sync_mode: the answer carries
 * image URLs), c=32 as in issue #12's figure, against the bare node:http proxy in the same run.
 * On the gateway each call is a reservation, the call, and a settlement. The sim's latency is 0
 * for the scenario. Two bodies, rounds of each interleaved over the variants:
 * - `rendered` (judged, as issue #12 measured it): the sim renders each answer, so its CPU, on the
 *   same two cores, is part of every variant's figure;
 * - `replayed`: the prompt carries `[bench:replay]` (bench/servers/sim.ts), the sim answers from a
 *   recording and the proxies alone set the pace — the baseline is then much faster and the ratio
 *   shows the gateway's whole cost per call.
 */
import type { Fleet } from '../lib/fleet.js';
import { syncCall, type Variant } from '../lib/targets.js';
import { maxThroughput, type ThroughputRow, type ThroughputSizes } from './throughput.js';

const body = (prompt: string): string => JSON.stringify({ prompt, image_size: { width: 64, height: 64 }, num_images: 1 });
export const SYNC_BODIES = { rendered: body('a lighthouse at dusk, bench sync'), replayed: body('a lighthouse at dusk, bench sync [bench:replay]') } as const;
export type SyncBody = keyof typeof SYNC_BODIES;

export async function syncRun(fleet: Fleet, variants: Variant[], sizes: ThroughputSizes, which: SyncBody): Promise<ThroughputRow[]> {
  const call = syncCall(SYNC_BODIES[which]);
  const direct = fleet.byId('direct');
  if (direct === undefined) throw new Error('S5r needs the direct variant');
  await fleet.setFaults({ latencyMs: 0 });
  try {
    // Fail early if the sim does not answer the call (and record it, for the replayed body).
    const spec = direct.door(call);
    const res = await fetch(`${spec.origin}${spec.path}`, { method: 'POST', headers: spec.headers, body: spec.body ?? null });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`S5r: the sim answered ${res.status}`);
    return await maxThroughput(variants, () => [call], sizes);
  } finally {
    await fleet.setFaults({ latencyMs: 50 });
  }
}
