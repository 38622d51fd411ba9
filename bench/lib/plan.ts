/**
 * Run sizes: `smoke` (default, under 3 minutes on the 2-core machine) and `--full` (A8's sizes,
 * about half an hour). Smoke sizes are small: read its figures as indicative, within ±30 %.
 * autocannon runs whole seconds (it rounds a duration up), so smoke windows are 1–2 s.
 */
import type { BigBodySizes } from '../scenarios/big-bodies.js';
import type { LatencySizes } from '../scenarios/latency.js';
import type { MixSizes } from '../scenarios/mix.js';
import type { ThroughputSizes } from '../scenarios/throughput.js';

export type Scenario = 's1' | 's2' | 's3' | 's4' | 's5' | 's5r' | 's6' | 's7' | 's9' | 's10';
export const SCENARIOS: readonly Scenario[] = ['s1', 's2', 's3', 's4', 's5', 's5r', 's6', 's7', 's9', 's10'];

export interface Plan {
  mode: 'smoke' | 'full';
  s1: LatencySizes;
  s2: LatencySizes;
  s3: ThroughputSizes & { variants: readonly string[] };
  s4: { seconds: number; cannonSeconds: number; connections: number; fraction: number; withCannon: boolean };
  s5: ThroughputSizes & { variants: readonly string[] };
  /** Small-body sync runs (fal.run), c=32 as in issue #12's figure. */
  s5r: ThroughputSizes & { variants: readonly string[] };
  s6: MixSizes & { variants: readonly string[] };
  s7: BigBodySizes & { variants: readonly string[] };
  s9: { seconds: number; sampleMs: number; statusFraction: number; mix: MixSizes; variant: string };
  /** S5's submit on two Postgres instances of one database (connections split), vs one, vs SQLite. */
  s10: ThroughputSizes & { variants: readonly string[] };
}

const ALL = ['direct', 'node-http', 'reply-from', 'server-proxy', 'gw-auth', 'gw-ledger', 'gw-log', 'gw-pg', 'gw-prod'];
const S10 = ['gw-pg', 'gw-pg2', 'gw-prod'];
const KB = 1024;

export function makePlan(full: boolean): Plan {
  if (!full) {
    return {
      mode: 'smoke',
      s1: { rounds: 10, perRound: 40, warmup: 100 },
      s2: { rounds: 8, perRound: 25, warmup: 20 },
      s3: { rounds: 3, seconds: 1, warmupSeconds: 1, connections: 50, variants: ['direct', 'node-http', 'reply-from', 'server-proxy', 'gw-log', 'gw-prod'] },
      s4: { seconds: 1.5, cannonSeconds: 1, connections: 50, fraction: 0.5, withCannon: true },
      s5: { rounds: 2, seconds: 2, warmupSeconds: 1, connections: 50, variants: ['direct', 'reply-from', 'gw-prod'] },
      s5r: { rounds: 2, seconds: 1, warmupSeconds: 1, connections: 32, variants: ['direct', 'node-http', 'gw-prod'] },
      s6: { jobs: 20, pollersPerJob: 5, pollMs: 500, jobMs: 1500, jitterMs: 500, variants: ['direct', 'gw-log', 'gw-prod'] },
      s7: {
        seconds: 2,
        rounds: 1,
        connections: 10,
        slowReaders: 3,
        slowSeconds: 3,
        slowBytesPerSec: 256 * KB,
        slowFor: ['4 MB'],
        variants: ['direct', 'node-http', 'gw-prod'],
      },
      s9: { seconds: 20, sampleMs: 1000, statusFraction: 0.25, mix: { jobs: 10, pollersPerJob: 3, pollMs: 500, jobMs: 1500, jitterMs: 500 }, variant: 'gw-prod' },
      s10: { rounds: 2, seconds: 2, warmupSeconds: 1, connections: 50, variants: S10 },
    };
  }
  return {
    mode: 'full',
    s1: { rounds: 30, perRound: 120, warmup: 2000 },
    s2: { rounds: 20, perRound: 60, warmup: 200 },
    s3: { rounds: 5, seconds: 10, warmupSeconds: 5, connections: 50, variants: ALL },
    s4: { seconds: 10, cannonSeconds: 10, connections: 50, fraction: 0.5, withCannon: true },
    s5: { rounds: 3, seconds: 5, warmupSeconds: 2, connections: 50, variants: ['direct', 'reply-from', 'gw-ledger', 'gw-log', 'gw-pg', 'gw-prod'] },
    s5r: { rounds: 3, seconds: 5, warmupSeconds: 2, connections: 32, variants: ['direct', 'node-http', 'reply-from', 'gw-log', 'gw-prod'] },
    s6: { jobs: 100, pollersPerJob: 5, pollMs: 500, jobMs: 4000, jitterMs: 2000, variants: ['direct', 'node-http', 'reply-from', 'server-proxy', 'gw-log', 'gw-pg', 'gw-prod'] },
    s7: {
      seconds: 5,
      rounds: 3,
      connections: 10,
      slowReaders: 5,
      slowSeconds: 10,
      slowBytesPerSec: 256 * KB,
      slowFor: ['1 MB', '4 MB', '8 MB'],
      variants: ['direct', 'node-http', 'reply-from', 'server-proxy', 'gw-prod'],
    },
    s9: { seconds: 300, sampleMs: 2000, statusFraction: 0.25, mix: { jobs: 50, pollersPerJob: 3, pollMs: 500, jobMs: 3000, jitterMs: 1000 }, variant: 'gw-prod' },
    s10: { rounds: 3, seconds: 5, warmupSeconds: 2, connections: 50, variants: S10 },
  };
}

/** Every variant any selected scenario needs (S1/S2 use them all). */
export function variantsNeeded(plan: Plan, scenarios: readonly Scenario[]): Set<string> {
  const want = new Set<string>(['direct']);
  const add = (ids: readonly string[]) => ids.forEach((id) => want.add(id));
  if (scenarios.includes('s1') || scenarios.includes('s2')) add(ALL);
  if (scenarios.includes('s3') || scenarios.includes('s4') || scenarios.includes('s9')) add(plan.s3.variants);
  if (scenarios.includes('s5')) add(plan.s5.variants);
  if (scenarios.includes('s5r')) add(plan.s5r.variants);
  if (scenarios.includes('s6')) add(plan.s6.variants);
  if (scenarios.includes('s7')) add(plan.s7.variants);
  if (scenarios.includes('s9')) want.add(plan.s9.variant);
  if (scenarios.includes('s10')) add(plan.s10.variants);
  return want;
}
