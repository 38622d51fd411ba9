import { describe, expect, it } from 'vitest';
import {
  IMAGE_SIZE_PRESETS,
  SIZE_GRANULE,
  megapixelsOf,
  pixelsOf,
  quoteSize,
  resolveImageSize,
  roundUpToGranule,
  unitsPerImage,
} from '../../src/domain/megapixels.js';
import { IMAGE_SIZE_PRESET_NAMES } from '../../src/domain/schema.js';

describe('IMAGE_SIZE_PRESETS', () => {
  it('maps every preset to the fal toolkit size', () => {
    expect(IMAGE_SIZE_PRESETS).toEqual({
      square_hd: { width: 1024, height: 1024 },
      square: { width: 512, height: 512 },
      portrait_4_3: { width: 768, height: 1024 },
      portrait_16_9: { width: 576, height: 1024 },
      landscape_4_3: { width: 1024, height: 768 },
      landscape_16_9: { width: 1024, height: 576 },
    });
    expect(new Set(Object.keys(IMAGE_SIZE_PRESETS))).toEqual(new Set(IMAGE_SIZE_PRESET_NAMES));
  });

  it('has only sizes that are already multiples of the granule', () => {
    for (const size of Object.values(IMAGE_SIZE_PRESETS)) {
      expect(size.width % SIZE_GRANULE).toBe(0);
      expect(size.height % SIZE_GRANULE).toBe(0);
    }
  });
});

describe('resolveImageSize', () => {
  it('defaults to landscape_4_3 when image_size is omitted', () => {
    expect(resolveImageSize(undefined)).toEqual({ width: 1024, height: 768 });
  });

  it.each(IMAGE_SIZE_PRESET_NAMES)('resolves preset %s', (name) => {
    expect(resolveImageSize(name)).toEqual(IMAGE_SIZE_PRESETS[name]);
  });

  it('defaults each missing side of an object to 512', () => {
    expect(resolveImageSize({})).toEqual({ width: 512, height: 512 });
    expect(resolveImageSize({ width: 1000 })).toEqual({ width: 1000, height: 512 });
    expect(resolveImageSize({ height: 300 })).toEqual({ width: 512, height: 300 });
    expect(resolveImageSize({ width: 7, height: 9 })).toEqual({ width: 7, height: 9 });
  });
});

describe('quoteSize', () => {
  it('rounds each side up to a multiple of 64 when auto_fix is on or omitted', () => {
    expect(quoteSize({ image_size: { width: 1000, height: 1000 } })).toEqual({ width: 1024, height: 1024 });
    expect(quoteSize({ image_size: { width: 1025, height: 977 }, auto_fix: true })).toEqual({ width: 1088, height: 1024 });
    expect(quoteSize({ image_size: { width: 1, height: 1 } })).toEqual({ width: 64, height: 64 });
    expect(quoteSize({ image_size: { width: 14142, height: 14142 } })).toEqual({ width: 14144, height: 14144 });
  });

  it('uses the size as given when auto_fix is false (fal answers 422 to incompatible sizes)', () => {
    expect(quoteSize({ image_size: { width: 1000, height: 1000 }, auto_fix: false })).toEqual({ width: 1000, height: 1000 });
    expect(quoteSize({ image_size: { width: 1, height: 1 }, auto_fix: false })).toEqual({ width: 1, height: 1 });
  });

  it('leaves presets and granule multiples unchanged', () => {
    for (const name of IMAGE_SIZE_PRESET_NAMES) expect(quoteSize({ image_size: name })).toEqual(IMAGE_SIZE_PRESETS[name]);
    expect(quoteSize({ image_size: { width: 640, height: 1280 } })).toEqual({ width: 640, height: 1280 });
    expect(quoteSize({})).toEqual({ width: 1024, height: 768 });
  });

  it('never quotes below the nearest multiple of any divisor of 64', () => {
    for (let n = 1; n <= 2048; n++) {
      const quoted = roundUpToGranule(n);
      for (const g of [8, 16, 32, 64]) expect(quoted).toBeGreaterThanOrEqual(Math.round(n / g) * g);
    }
  });
});

describe('pixel and unit math', () => {
  it('counts megapixels as 10^6 pixels', () => {
    expect(megapixelsOf(pixelsOf({ width: 1024, height: 1024 }))).toBe(1.048576);
    expect(megapixelsOf(4 * pixelsOf({ width: 1024, height: 768 }))).toBe(3.145728);
  });

  it('rounds each image up to whole megapixels under ceil_per_image', () => {
    expect(unitsPerImage(1, 'ceil_per_image')).toBe(1);
    expect(unitsPerImage(1_000_000, 'ceil_per_image')).toBe(1);
    expect(unitsPerImage(1_000_001, 'ceil_per_image')).toBe(2);
    expect(unitsPerImage(1_048_576, 'ceil_per_image')).toBe(2);
    expect(unitsPerImage(0, 'ceil_per_image')).toBe(0);
    expect(unitsPerImage(200_052_736, 'ceil_per_image')).toBe(201);
  });

  it('rounds up exactly at the top of the safe-integer range', () => {
    const k = 9_007_199_253; // k × 10^6 + 1 < 2^53
    expect(unitsPerImage(k * 1_000_000 + 1, 'ceil_per_image')).toBe(k + 1);
  });

  it('keeps fractional megapixels under exact', () => {
    expect(unitsPerImage(786_432, 'exact')).toBe(0.786432);
  });

  it('refuses sizes that are not non-negative integers', () => {
    expect(() => pixelsOf({ width: 1.5, height: 2 })).toThrow(RangeError);
    expect(() => pixelsOf({ width: -1, height: 2 })).toThrow(RangeError);
    expect(() => pixelsOf({ width: Number.NaN, height: 2 })).toThrow(RangeError);
    expect(() => pixelsOf({ width: 2 ** 40, height: 2 ** 40 })).toThrow(RangeError);
  });
});
