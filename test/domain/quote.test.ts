import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE_PRESET_NAMES, type ImageSizePreset, type Sd35Input } from '../../src/domain/schema.js';
import { costOfImages, quote, type Pricing } from '../../src/domain/pricing.js';

const CEIL: Pricing = { microUsdPerMegapixel: 20_000, rounding: 'ceil_per_image' };
const EXACT: Pricing = { microUsdPerMegapixel: 20_000, rounding: 'exact' };

/** Hand-computed at $0.02/MP: units per image (ceil) and ceil(px × 0.02 USD) in µUSD per image (exact). */
const PRESET_TABLE: Record<ImageSizePreset, { w: number; h: number; px: number; ceilUnits: number; exactMicro: number }> = {
  square_hd: { w: 1024, h: 1024, px: 1_048_576, ceilUnits: 2, exactMicro: 20_972 }, // 20971.52
  square: { w: 512, h: 512, px: 262_144, ceilUnits: 1, exactMicro: 5_243 }, // 5242.88
  portrait_4_3: { w: 768, h: 1024, px: 786_432, ceilUnits: 1, exactMicro: 15_729 }, // 15728.64
  portrait_16_9: { w: 576, h: 1024, px: 589_824, ceilUnits: 1, exactMicro: 11_797 }, // 11796.48
  landscape_4_3: { w: 1024, h: 768, px: 786_432, ceilUnits: 1, exactMicro: 15_729 },
  landscape_16_9: { w: 1024, h: 576, px: 589_824, ceilUnits: 1, exactMicro: 11_797 },
};

describe('quote for every preset and num_images', () => {
  for (const preset of IMAGE_SIZE_PRESET_NAMES) {
    const row = PRESET_TABLE[preset];
    for (const n of [1, 2, 3, 4]) {
      it(`${preset} × ${n}: ${row.ceilUnits * n} units / ${row.ceilUnits * n * 20_000} µUSD ceil, ${row.exactMicro * n} µUSD exact`, () => {
        const input: Sd35Input = { prompt: 'p', image_size: preset, num_images: n };
        expect(quote(input, CEIL)).toEqual({
          width: row.w,
          height: row.h,
          numImages: n,
          megapixels: (row.px * n) / 1e6,
          units: row.ceilUnits * n,
          microUsd: row.ceilUnits * n * 20_000,
        });
        const exact = quote(input, EXACT);
        expect(exact.units).toBe((row.px * n) / 1e6);
        expect(exact.microUsd).toBe(row.exactMicro * n);
      });
    }
  }

  it('prices square_hd at 2 units = 40,000 µUSD and landscape_4_3 at 1 unit = 20,000 µUSD per image', () => {
    expect(quote({ prompt: 'p', image_size: 'square_hd' }, CEIL).microUsd).toBe(40_000);
    expect(quote({ prompt: 'p', image_size: 'landscape_4_3' }, CEIL).microUsd).toBe(20_000);
  });

  it('defaults to landscape_4_3 and one image', () => {
    expect(quote({ prompt: 'p' }, CEIL)).toEqual({ width: 1024, height: 768, numImages: 1, megapixels: 0.786432, units: 1, microUsd: 20_000 });
  });

  it('reports whole-request megapixels, e.g. 4 × landscape_4_3 = 3.145728', () => {
    expect(quote({ prompt: 'p', num_images: 4 }, CEIL).megapixels).toBe(3.145728);
  });
});

describe('quote for custom sizes', () => {
  const cases: { name: string; input: Sd35Input; size: [number, number]; ceilMicro: number; exactMicro: number }[] = [
    { name: '1000² auto_fix on → 1024²', input: { prompt: 'p', image_size: { width: 1000, height: 1000 } }, size: [1024, 1024], ceilMicro: 40_000, exactMicro: 20_972 },
    { name: '1000² auto_fix off → exactly 1 MP', input: { prompt: 'p', image_size: { width: 1000, height: 1000 }, auto_fix: false }, size: [1000, 1000], ceilMicro: 20_000, exactMicro: 20_000 },
    { name: '1025×977 on → 1088×1024', input: { prompt: 'p', image_size: { width: 1025, height: 977 } }, size: [1088, 1024], ceilMicro: 40_000, exactMicro: 22_283 }, // 22282.24
    { name: '1025×977 off', input: { prompt: 'p', image_size: { width: 1025, height: 977 }, auto_fix: false }, size: [1025, 977], ceilMicro: 40_000, exactMicro: 20_029 }, // 20028.5
    { name: '1×1 on → 64×64', input: { prompt: 'p', image_size: { width: 1, height: 1 } }, size: [64, 64], ceilMicro: 20_000, exactMicro: 82 }, // 81.92
    { name: '1×1 off', input: { prompt: 'p', image_size: { width: 1, height: 1 }, auto_fix: false }, size: [1, 1], ceilMicro: 20_000, exactMicro: 1 }, // 0.02
    { name: '14142² on → 14144²', input: { prompt: 'p', image_size: { width: 14142, height: 14142 } }, size: [14144, 14144], ceilMicro: 4_020_000, exactMicro: 4_001_055 }, // 4001054.72
    { name: '14142² off', input: { prompt: 'p', image_size: { width: 14142, height: 14142 }, auto_fix: false }, size: [14142, 14142], ceilMicro: 4_000_000, exactMicro: 3_999_924 }, // 3999923.28
    { name: '{} → 512²', input: { prompt: 'p', image_size: {} }, size: [512, 512], ceilMicro: 20_000, exactMicro: 5_243 },
    { name: '{width:1000} → 1024×512', input: { prompt: 'p', image_size: { width: 1000 } }, size: [1024, 512], ceilMicro: 20_000, exactMicro: 10_486 }, // 10485.76
  ];
  for (const c of cases) {
    it(`${c.name}`, () => {
      for (const n of [1, 4]) {
        const input = { ...c.input, num_images: n };
        const q = quote(input, CEIL);
        expect([q.width, q.height]).toEqual(c.size);
        expect(q.microUsd).toBe(c.ceilMicro * n);
        expect(quote(input, EXACT).microUsd).toBe(c.exactMicro * n);
      }
    });
  }

  it('caps out at 16,080,000 µUSD ($16.08) for the largest request the schema allows', () => {
    const q = quote({ prompt: 'p', image_size: { width: 14142, height: 14142 }, num_images: 4 }, CEIL);
    expect(q).toMatchObject({ units: 804, microUsd: 16_080_000 });
  });

  it('stays exact where px × price exceeds 2^53 (BigInt path)', () => {
    // 200052736 × 999999999 / 10^6 = 200052735799.947264 → 200052735800 per image.
    const q = quote({ prompt: 'p', image_size: { width: 14142, height: 14142 } }, { microUsdPerMegapixel: 999_999_999, rounding: 'exact' });
    expect(q.microUsd).toBe(200_052_735_800);
  });

  it('is free at price 0', () => {
    expect(quote({ prompt: 'p', num_images: 4 }, { microUsdPerMegapixel: 0, rounding: 'ceil_per_image' }).microUsd).toBe(0);
  });

  it('refuses an invalid price', () => {
    expect(() => quote({ prompt: 'p' }, { microUsdPerMegapixel: 0.5, rounding: 'exact' })).toThrow(RangeError);
    expect(() => quote({ prompt: 'p' }, { microUsdPerMegapixel: -1, rounding: 'exact' })).toThrow(RangeError);
  });
});

describe('costOfImages', () => {
  it('charges nothing for no images', () => {
    expect(costOfImages([], CEIL)).toEqual({ units: 0, microUsd: 0 });
  });

  it('sums per-image rounded units for mixed sizes', () => {
    const images = [{ width: 1024, height: 1024 }, { width: 512, height: 512 }];
    expect(costOfImages(images, CEIL)).toEqual({ units: 3, microUsd: 60_000 });
    expect(costOfImages(images, EXACT)).toEqual({ units: 1.31072, microUsd: 20_972 + 5_243 });
  });

  it('matches the quote for the sizes fal returns', () => {
    const q = quote({ prompt: 'p', image_size: 'square_hd', num_images: 3 }, CEIL);
    expect(costOfImages(Array.from({ length: 3 }, () => ({ width: 1024, height: 1024 })), CEIL)).toEqual({ units: q.units, microUsd: q.microUsd });
  });

  it('throws RangeError for sizes that are not non-negative integers', () => {
    expect(() => costOfImages([{ width: 10.5, height: 2 }], CEIL)).toThrow(RangeError);
  });
});
