/** The page's one money formatter: integer micro-USD in, every significant digit out, no float sums. */
import { describe, expect, it } from 'vitest';
import { formatMicro, formatUsd, sumMicro, toMicro } from '../../web/shared/money.js';

describe('web/shared/money.ts', () => {
  it('turns API USD values (numbers or 6-decimal strings) into integer micro-USD', () => {
    expect(toMicro(0.02)).toBe(20_000);
    expect(toMicro(0.035)).toBe(35_000);
    expect(toMicro(1234.567891)).toBe(1_234_567_891);
    expect(toMicro('0.000001')).toBe(1);
    expect(toMicro('-2.500000')).toBe(-2_500_000);
    expect(toMicro('12')).toBe(12_000_000);
    expect(toMicro('abc')).toBeNaN();
  });

  it('sums exactly where floats do not', () => {
    const rows = Array.from({ length: 10 }, () => 0.1);
    expect(rows.reduce((s, v) => s + v, 0)).not.toBe(1);
    expect(sumMicro(rows.map(toMicro))).toBe(1_000_000);
    expect(formatMicro(sumMicro(rows.map(toMicro)))).toBe('$1.00');
  });

  it('shows at least cents and every further digit down to the micro-dollar', () => {
    expect(formatMicro(0)).toBe('$0.00');
    expect(formatMicro(20_000)).toBe('$0.02');
    expect(formatMicro(35_000)).toBe('$0.035');
    expect(formatMicro(1)).toBe('$0.000001');
    expect(formatMicro(1_234_567_891)).toBe('$1,234.567891');
    expect(formatMicro(1_000_000_000_000)).toBe('$1,000,000.00');
    expect(formatMicro(-2_500_000)).toBe('−$2.50');
    expect(formatMicro(Number.NaN)).toBe('—');
  });

  it('formatUsd is toMicro then formatMicro, with a dash for no value', () => {
    expect(formatUsd(0.48)).toBe('$0.48');
    expect(formatUsd('0.035000')).toBe('$0.035');
    expect(formatUsd(null)).toBe('—');
    expect(formatUsd(undefined)).toBe('—');
  });
});
