/** pricing.ts reservationMicro: the amount held against budgets is an upper bound of fal's bill under every rule. */
import { describe, expect, it } from 'vitest';
import { costOfImages, quote, reservationMicro } from '../../src/domain/pricing.js';
import type { Sd35Input } from '../../src/domain/schema.js';

const PRICE = 20_000;

describe('reservationMicro', () => {
  it('rounds each image up to whole megapixels, whatever the estimate rule', () => {
    const input: Sd35Input = { prompt: 'p', image_size: 'square_hd', num_images: 3 };
    expect(reservationMicro(input, PRICE)).toBe(3 * 2 * PRICE);
    expect(quote(input, { microUsdPerMegapixel: PRICE, rounding: 'exact' }).microUsd).toBe(3 * 20_972);
    expect(quote(input, { microUsdPerMegapixel: PRICE, rounding: 'ceil_per_image' }).microUsd).toBe(reservationMicro(input, PRICE));
  });

  it('covers the auto_fix round-up, and takes the size as given without auto_fix', () => {
    // 1000×1000 may become 1024×1024 (2 MP billed) with auto_fix; without it fal refuses other sizes.
    expect(reservationMicro({ prompt: 'p', image_size: { width: 1000, height: 1000 } }, PRICE)).toBe(2 * PRICE);
    expect(reservationMicro({ prompt: 'p', image_size: { width: 1000, height: 1000 }, auto_fix: false }, PRICE)).toBe(PRICE);
  });

  it('is never below what fal bills for any output size the request can produce (whole MP per image)', () => {
    for (let w = 64; w <= 2048; w += 61) {
      for (const h of [1, 63, 500, 999, 1000, 1001, 1500]) {
        const hold = reservationMicro({ prompt: 'p', image_size: { width: w, height: h }, num_images: 2 }, PRICE);
        // fal's auto_fix takes each side to the nearest multiple of 64 (at least 64): never above our round-up.
        const fit = (n: number) => Math.max(64, Math.round(n / 64) * 64);
        const billed = costOfImages(Array.from({ length: 2 }, () => ({ width: fit(w), height: fit(h) })), { microUsdPerMegapixel: PRICE, rounding: 'ceil_per_image' }).microUsd;
        expect(hold, `${w}x${h}`).toBeGreaterThanOrEqual(billed);
      }
    }
  });
});
