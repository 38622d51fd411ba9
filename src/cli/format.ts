/** How the CLI prints: money from integer micro-USD (one function), aligned tables. */
import { microToUsd, usdToMicro } from '../domain/pricing.js';

/**
 * µUSD → `$1.25`, `$0.0416`, `$5.00`: exact (string arithmetic on the integer, never a float),
 * cents always shown, further digits only when they are not zero. Null (no budget) → `-`.
 */
export function money(micro: number | null): string {
  if (micro === null) return '-';
  const text = microToUsd(micro);
  const sign = text.startsWith('-') ? '-' : '';
  const [whole = '0', frac = ''] = text.slice(sign.length).split('.');
  return `${sign}$${whole}.${frac.replace(/0+$/, '').padEnd(2, '0')}`;
}

/**
 * The services answer money as USD numbers made from integers (microToUsdNumber), which convert
 * back to the same integer exactly; tables format from that integer.
 */
export function moneyOfUsd(usd: number | null): string {
  return money(usd === null ? null : usdToMicro(usd));
}

/**
 * Text a key holder chose (key names, end users, teams) made safe for a terminal: C0 and C1
 * control characters (ESC sequences could move the cursor, rewrite earlier lines or set the
 * window title) each become U+FFFD.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

/** A plain-text table: columns padded to their widest cell; `right` columns (numbers) right-aligned. Cells are made printable. */
export function table(headers: string[], rawRows: string[][], right: readonly number[] = []): string {
  const rows = rawRows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** A cell for an optional value. */
export function cell(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}
