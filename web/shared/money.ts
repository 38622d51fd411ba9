/**
 * Money on screen. The admin API sends USD numbers (or 6-decimal strings) exact to the micro-dollar;
 * the page turns each into integer micro-USD once (`toMicro`), adds and compares integers only, and
 * formats with `formatMicro`, the one function that writes a dollar amount. No float arithmetic on
 * money: a sum of a hundred $0.02 rows is exactly $2.00 here, as it is in the ledger.
 */

/** Integer micro-USD (1 USD = 1 000 000). */
export type Micro = number;

/** USD from the API (a number such as 0.035 or a string such as "0.035000") → integer micro-USD. */
export function toMicro(usd: number | string): Micro {
  if (typeof usd === 'number') return Math.round(usd * 1e6);
  const m = /^(-)?(\d+)(?:\.(\d{1,6})\d*)?$/.exec(usd.trim());
  if (m === null) return Number.NaN;
  const whole = Number(m[2]) * 1_000_000 + Number((m[3] ?? '').padEnd(6, '0'));
  return m[1] === '-' ? -whole : whole;
}

/** Sums micro amounts (integers, so exact). */
export function sumMicro(values: readonly Micro[]): Micro {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

const GROUPING = /\B(?=(\d{3})+(?!\d))/g;

/**
 * `$1,234.50`, `$0.035`, `$0.000001`, `−$2.00`: at least cents, every further non-zero digit down to
 * the micro-dollar (nothing is rounded away: an operator comparing with fal's bill sees the ledger's
 * exact amount).
 */
export function formatMicro(micro: Micro): string {
  if (!Number.isFinite(micro)) return '—';
  const abs = Math.abs(Math.trunc(micro));
  const dollars = String(Math.floor(abs / 1_000_000)).replace(GROUPING, ',');
  const fraction = String(abs % 1_000_000).padStart(6, '0').replace(/0{1,4}$/, '');
  return `${micro < 0 ? '−' : ''}$${dollars}.${fraction}`;
}

/** The one way an API USD value reaches the screen. */
export function formatUsd(usd: number | string | null | undefined): string {
  return usd === null || usd === undefined ? '—' : formatMicro(toMicro(usd));
}

/**
 * A USD header value (`x-gateway-cost-usd: "0.020000"`) or JSON number → integer micro-USD, or null
 * when it is not a non-negative amount (a missing header, text).
 */
export function parseUsd(value: string | number | null | undefined): Micro | null {
  if (value === null || value === undefined) return null;
  const micro = typeof value === 'number' ? (Number.isFinite(value) ? toMicro(value) : Number.NaN) : /^\d+(\.\d{1,6})?$/.test(value.trim()) ? toMicro(value) : Number.NaN;
  return Number.isSafeInteger(micro) && micro >= 0 ? micro : null;
}
