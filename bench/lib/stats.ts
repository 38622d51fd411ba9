/** Small statistics for noisy runs: medians of rounds, pooled percentiles, IQR, trend slopes. */

/** Linear-interpolated quantile of unsorted samples, q in 0..1; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** Interquartile range (p75 − p25). */
export const iqr = (samples: readonly number[]): number => quantile(samples, 0.75) - quantile(samples, 0.25);

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than 2 points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** a / b, or NaN when either is not a positive finite number. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** `rounds` rotated orders of `items`, so no variant always runs first or last (ABC, BCA, CAB …). */
export function rotations<T>(items: readonly T[], rounds: number): T[][] {
  const out: T[][] = [];
  for (let r = 0; r < rounds; r++) {
    const k = items.length === 0 ? 0 : r % items.length;
    out.push([...items.slice(k), ...items.slice(0, k)]);
  }
  return out;
}

export const round = (v: number, digits = 0): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : NaN);
