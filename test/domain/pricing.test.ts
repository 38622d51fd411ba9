import { describe, expect, it } from 'vitest';
import {
  MAX_MICRO_USD_PER_MEGAPIXEL,
  costOfBillableUnits,
  microToUsd,
  microToUsdNumber,
  parsePricePerMegapixel,
  usdToMicro,
} from '../../src/domain/pricing.js';

describe('costOfBillableUnits', () => {
  it.each([
    ['2', 40_000],
    ['1', 20_000],
    ['0', 0],
    ['0.0', 0],
    ['1.5', 30_000],
    ['0.786432', 15_729], // 15728.64 rounds half-up
    ['0.000025', 1], // exactly 0.5 µUSD rounds up
    ['0.000024', 0], // 0.48 µUSD rounds down
    ['3.145728', 62_915], // 62914.56
    [' 2 ', 40_000], // surrounding whitespace of a header value
    ['007', 140_000],
  ])('prices x-fal-billable-units %j at 20,000 µUSD/MP as %i µUSD', (header, micro) => {
    expect(costOfBillableUnits(header, 20_000)).toBe(micro);
  });

  it.each(['', ' ', '-1', '-0', '+1', '1e3', '1E3', 'abc', 'NaN', 'Infinity', '1.', '.5', '0x10', '1,5', '2 3', '1.2.3', '１'])(
    'returns null for malformed value %j',
    (header) => {
      expect(costOfBillableUnits(header, 20_000)).toBeNull();
    },
  );

  it('returns null for absurdly long or large values instead of an unsafe number', () => {
    expect(costOfBillableUnits('1'.repeat(31), 20_000)).toBeNull();
    expect(costOfBillableUnits('999999999999999999999999999999', 20_000)).toBeNull();
  });

  it('is exact where float multiplication is not', () => {
    // 0.29 × 100 = 28.999999999999996 in floats.
    expect(costOfBillableUnits('0.29', 100)).toBe(29);
    expect(costOfBillableUnits('1.005', 1_000)).toBe(1_005);
  });

  it('throws RangeError for an invalid configured price', () => {
    expect(() => costOfBillableUnits('1', -1)).toThrow(RangeError);
    expect(() => costOfBillableUnits('1', 0.5)).toThrow(RangeError);
    expect(() => costOfBillableUnits('1', MAX_MICRO_USD_PER_MEGAPIXEL + 1)).toThrow(RangeError);
  });
});

describe('usdToMicro', () => {
  it.each([
    [0.02, 20_000],
    [0, 0],
    [-0, 0],
    [1, 1_000_000],
    [1.005, 1_005_000],
    [0.000001, 1],
    [123_456_789.123456, 123_456_789_123_456],
    [0.0000005, 1], // 5e-7: beyond 6 decimals, half-up
    [0.0000004, 0],
    [1.5e-7, 0],
  ])('converts %d USD to %i µUSD', (usd, micro) => {
    expect(usdToMicro(usd)).toBe(micro);
  });

  it('absorbs float noise: 0.1 + 0.2 is 300,000 µUSD', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(usdToMicro(0.1 + 0.2)).toBe(300_000);
    expect(usdToMicro(0.1) + usdToMicro(0.2)).toBe(usdToMicro(0.3));
  });

  it.each([-0.01, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e10, 1e21])('throws RangeError for %d', (usd) => {
    expect(() => usdToMicro(usd)).toThrow(RangeError);
  });
});

describe('microToUsd', () => {
  it.each([
    [20_000, '0.020000'],
    [0, '0.000000'],
    [1, '0.000001'],
    [1_000_000, '1.000000'],
    [1_234_567_890, '1234.567890'],
    [-1_500_000, '-1.500000'],
    [-1, '-0.000001'],
    [Number.MAX_SAFE_INTEGER, '9007199254.740991'],
  ])('formats %i µUSD as %s', (micro, text) => {
    expect(microToUsd(micro)).toBe(text);
  });

  it('round-trips through usdToMicro', () => {
    for (const micro of [0, 1, 20_000, 40_000, 999_999, 16_080_000, 123_456_789_123]) {
      expect(usdToMicro(Number(microToUsd(micro)))).toBe(micro);
    }
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('throws RangeError for %d', (micro) => {
    expect(() => microToUsd(micro)).toThrow(RangeError);
  });

  it('has a numeric variant for JSON', () => {
    expect(microToUsdNumber(20_000)).toBe(0.02);
    expect(microToUsdNumber(16_080_000)).toBe(16.08);
  });
});

describe('parsePricePerMegapixel', () => {
  it.each([
    ['0.02', 20_000],
    ['0.020', 20_000],
    ['0.0200000', 20_000], // extra zeros beyond µUSD are exact
    [' 0.02 ', 20_000],
    ['0', 0],
    ['0.1', 100_000],
    ['0.3', 300_000],
    ['0.000001', 1],
    ['1000', MAX_MICRO_USD_PER_MEGAPIXEL],
  ])('parses %j as %i µUSD', (text, micro) => {
    expect(parsePricePerMegapixel(text)).toBe(micro);
  });

  it('adds exactly: "0.1" + "0.2" = "0.3"', () => {
    const a = parsePricePerMegapixel('0.1');
    const b = parsePricePerMegapixel('0.2');
    expect(a !== null && b !== null ? a + b : null).toBe(parsePricePerMegapixel('0.3'));
  });

  it.each(['', '-0.02', '+0.02', '1e-2', '0,02', '.02', '$0.02', '0.02 USD', '0.0000001', '0.0000015', '1000.000001', 'NaN', 'Infinity'])(
    'refuses %j',
    (text) => {
      expect(parsePricePerMegapixel(text)).toBeNull();
    },
  );
});
