/**
 * Image sizes and billable megapixel units: the pure geometry under the money in pricing.ts.
 *
 * Facts (docs/fal-protocol.md §1.3, §4): presets from the fal toolkit
 * `projects/fal/src/fal/toolkit/image/image.py` `IMAGE_SIZE_PRESETS`; an omitted width/height is
 * 512; the price is "$0.02 per megapixels" (llms.txt) with a megapixel taken as 10^6 pixels; fal's
 * rounding for this model is unpublished, so the rule is configurable (see `RoundingRule`).
 */
import {
  DEFAULT_IMAGE_DIMENSION,
  DEFAULT_IMAGE_SIZE,
  type ImageSizePreset,
  type Sd35Input,
} from './schema.js';

export interface Dimensions {
  readonly width: number;
  readonly height: number;
}

/** fal toolkit `IMAGE_SIZE_PRESETS`. All are multiples of `SIZE_GRANULE` already. */
export const IMAGE_SIZE_PRESETS: Readonly<Record<ImageSizePreset, Dimensions>> = Object.freeze({
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 },
});

/** fal prices "per megapixel" in decimal megapixels (10^6 px), not 2^20 (docs/fal-protocol.md §4). */
export const PIXELS_PER_MEGAPIXEL = 1_000_000;

/**
 * Granule the quote rounds each dimension up to when `auto_fix` is on. fal only says an
 * incompatible size "is silently rounded to the nearest compatible value" (llms.txt) and does not
 * publish the rule. SD3.5's latent grid makes a multiple of 8/16/64 the plausible rule; rounding
 * *up* to 64 is never below "nearest multiple of any divisor of 64", so budgets are not overspent
 * under that assumption. Settlement uses what fal reports, so an over-quote is only a reservation.
 */
export const SIZE_GRANULE = 64;

/**
 * How the quote turns pixels into billable units.
 * - `ceil_per_image` (default): each image rounded up to whole megapixels, fal's wording for its
 *   other per-MP image models: "Images are billed by rounding up to the nearest megapixel".
 * - `exact`: fractional megapixels, each image's cost rounded up to a whole micro-USD.
 */
export type RoundingRule = 'ceil_per_image' | 'exact';

/** The size a request asks for: preset lookup, or the object with fal's 512 default per side. */
export function resolveImageSize(imageSize: Sd35Input['image_size']): Dimensions {
  if (imageSize === undefined) return IMAGE_SIZE_PRESETS[DEFAULT_IMAGE_SIZE];
  if (typeof imageSize === 'string') return IMAGE_SIZE_PRESETS[imageSize];
  return { width: imageSize.width ?? DEFAULT_IMAGE_DIMENSION, height: imageSize.height ?? DEFAULT_IMAGE_DIMENSION };
}

/** Smallest multiple of `SIZE_GRANULE` that is ≥ n. */
export function roundUpToGranule(n: number): number {
  return Math.ceil(n / SIZE_GRANULE) * SIZE_GRANULE;
}

/**
 * The size to quote: an upper bound of what fal will generate. With `auto_fix` (default true) each
 * side is rounded up to `SIZE_GRANULE`; with `auto_fix: false` fal refuses incompatible sizes with
 * 422 (unbilled validation), so the size as given is exact.
 */
export function quoteSize(input: Pick<Sd35Input, 'image_size' | 'auto_fix'>): Dimensions {
  const size = resolveImageSize(input.image_size);
  if (input.auto_fix === false) return size;
  return { width: roundUpToGranule(size.width), height: roundUpToGranule(size.height) };
}

/** Pixel count; refuses anything that is not a non-negative safe integer size. */
export function pixelsOf(size: Dimensions): number {
  const { width, height } = size;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`invalid image size ${String(width)}x${String(height)}`);
  }
  const pixels = width * height;
  if (!Number.isSafeInteger(pixels)) throw new RangeError(`image size ${width}x${height} is too large`);
  return pixels;
}

/** Exact megapixels for display and `x-gateway-megapixels` (e.g. 786432 px → 0.786432). */
export function megapixelsOf(pixels: number): number {
  return pixels / PIXELS_PER_MEGAPIXEL;
}

/**
 * Billable units for one image of `pixels` under `rule`. The ceiling is taken from the integer
 * remainder, so it is exact by construction rather than by float-division error analysis.
 */
export function unitsPerImage(pixels: number, rule: RoundingRule): number {
  if (rule === 'exact') return pixels / PIXELS_PER_MEGAPIXEL;
  const rest = pixels % PIXELS_PER_MEGAPIXEL;
  return (pixels - rest) / PIXELS_PER_MEGAPIXEL + (rest > 0 ? 1 : 0);
}
