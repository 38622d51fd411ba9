/**
 * Money on screen. Amounts are integer micro-USD (docs/design.md §3); the gateway hands them out as
 * USD at its edges (`x-gateway-cost-usd: "0.020000"`, JSON numbers in `/v1/usage`). Both are turned
 * back into integers with the server's own exact decimal parse (src/domain/pricing.ts), so no
 * float arithmetic ever touches an amount in the page.
 */
import { microToUsd, usdToMicro } from '../../src/domain/pricing.js';

/** The one formatter: "$0.020000" (six decimals, exact; the ledger's own precision). */
export function formatUsd(micro: number): string {
  const text = microToUsd(micro);
  return text.startsWith('-') ? `-$${text.slice(1)}` : `$${text}`;
}

/** A USD header value or JSON number → µUSD, or null when it is not a non-negative amount. */
export function parseUsd(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : /^\d+(\.\d{1,6})?$/.test(value.trim()) ? Number(value.trim()) : NaN;
  try {
    return usdToMicro(n);
  } catch {
    return null;
  }
}
