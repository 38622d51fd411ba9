/**
 * S1 (status path) and S2 (submit path): added latency at c=1. Each round runs every variant for
 * `perRound` sequential requests, in a rotated order; rounds are short and many, so a burst of
 * noise from other processes lands on all variants alike. A variant's added p50 is the median over
 * rounds of (its round p50 − direct's round p50), and its added p99 is its pooled p99 minus
 * direct's pooled p99. Timing is hrtime around each request on a warm keep-alive connection.
 */
import { Clients, sequential } from '../lib/load.js';
import { iqr, median, quantile, rotations } from '../lib/stats.js';
import type { FalCall, Variant } from '../lib/targets.js';

export interface LatencySizes {
  rounds: number;
  perRound: number;
  warmup: number;
}

export interface LatencyRow {
  id: string;
  p50Us: number;
  p99Us: number;
  /** Median over rounds of the round-p50 difference to direct. */
  addedP50Us: number;
  /** IQR of those per-round differences (how much the rounds disagree). */
  addedP50IqrUs: number;
  /** Pooled p99 minus direct's pooled p99. */
  addedP99Us: number;
  samples: number;
  errors: number;
}

export async function addedLatency(variants: Variant[], call: (v: Variant) => FalCall, sizes: LatencySizes): Promise<LatencyRow[]> {
  const clients = new Clients();
  const pooled = new Map<string, number[]>(variants.map((v) => [v.id, []]));
  const roundP50 = new Map<string, number[]>(variants.map((v) => [v.id, []]));
  const errors = new Map<string, number>(variants.map((v) => [v.id, 0]));
  try {
    for (const v of variants) {
      const warm = await sequential(clients, v.door(call(v)), sizes.warmup);
      if (warm.errors === sizes.warmup) throw new Error(`${v.id}: every warm-up request failed`);
    }
    for (const order of rotations(variants, sizes.rounds)) {
      for (const v of order) {
        const s = await sequential(clients, v.door(call(v)), sizes.perRound);
        pooled.get(v.id)?.push(...s.latenciesUs);
        roundP50.get(v.id)?.push(median(s.latenciesUs));
        errors.set(v.id, (errors.get(v.id) ?? 0) + s.errors);
      }
    }
  } finally {
    await clients.close();
  }
  const directRounds = roundP50.get('direct') ?? [];
  const directP99 = quantile(pooled.get('direct') ?? [], 0.99);
  return variants.map((v) => {
    const all = pooled.get(v.id) ?? [];
    // Rounds are visited in rotated order, but each variant's r-th entry is from round r.
    const diffs = (roundP50.get(v.id) ?? []).map((p, r) => p - (directRounds[r] ?? NaN));
    const p99 = quantile(all, 0.99);
    return {
      id: v.id,
      p50Us: median(all),
      p99Us: p99,
      addedP50Us: median(diffs),
      addedP50IqrUs: iqr(diffs),
      addedP99Us: p99 - directP99,
      samples: all.length,
      errors: errors.get(v.id) ?? 0,
    };
  });
}
