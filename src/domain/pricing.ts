/**
 * Money math in integer micro-USD (1 USD = 1,000,000 µUSD); dollars only at the edges.
 *
 * Facts (docs/fal-protocol.md §4): SD3.5-M costs "$0.02 per megapixels" (llms.txt, default
 * price); fal's authoritative per-request figure is the `x-fal-billable-units` response header
 * (Platform Headers doc), multiplied by the unit price. Decimal strings are parsed as an integer
 * plus a scale and multiplied in BigInt, so "0.1" + "0.2" style float errors cannot reach a ledger.
 */
import { megapixelsOf, pixelsOf, quoteSize, unitsPerImage, type Dimensions, type RoundingRule } from './megapixels.js';
import type { Sd35Input } from './schema.js';

export type { RoundingRule } from './megapixels.js';

export const MICRO_USD_PER_USD = 1_000_000;
/**
 * $1000/MP ceiling on a configured price: the largest quote (4 × 201 units at 14144² px) then stays
 * far below 2^53 µUSD, so every amount here is a safe integer.
 */
export const MAX_MICRO_USD_PER_MEGAPIXEL = 1_000_000_000;

export interface Pricing {
  microUsdPerMegapixel: number;
  rounding: RoundingRule;
}

export interface Quote {
  /** Quoted size per image (after the `auto_fix` granule round-up). */
  width: number;
  height: number;
  numImages: number;
  /** Exact megapixels of the whole request, e.g. 3.145728. */
  megapixels: number;
  /** Billable units of the whole request under the rounding rule. */
  units: number;
  /** Integer µUSD to reserve. */
  microUsd: number;
}

const MEGAPIXEL = 1_000_000n;
const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Round-half-up of n / d, for n ≥ 0 and d > 0. */
const divHalfUp = (n: bigint, d: bigint): bigint => (2n * (n % d) >= d ? n / d + 1n : n / d);
const divCeil = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;
const toSafe = (v: bigint): number | null => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null);

/** A plain non-negative decimal: `digits / 10^scale`. No sign, exponent or spaces; bounded length. */
function parseDecimal(text: string): { digits: bigint; scale: number } | null {
  const m = /^(\d{1,30})(?:\.(\d{1,30}))?$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  return { digits: BigInt(`${m[1] ?? ''}${frac}`), scale: frac.length };
}

/** µUSD from a decimal USD amount, half-up beyond 6 decimals; `null` if not exact and `exactOnly`. */
function decimalToMicro(digits: bigint, scale: number, exactOnly: boolean): bigint | null {
  const shift = 6 - scale;
  if (shift >= 0) return digits * pow10(shift);
  const d = pow10(-shift);
  if (exactOnly && digits % d !== 0n) return null;
  return divHalfUp(digits, d);
}

function assertPrice(microUsdPerMegapixel: number): void {
  if (!Number.isSafeInteger(microUsdPerMegapixel) || microUsdPerMegapixel < 0 || microUsdPerMegapixel > MAX_MICRO_USD_PER_MEGAPIXEL) {
    throw new RangeError(`invalid price per megapixel: ${String(microUsdPerMegapixel)} µUSD`);
  }
}

/** µUSD for `count` images of `pixels` each; `exact` charges ceil(px × price / 10^6) per image. */
function microUsdOf(pixels: number, count: number, pricing: Pricing): bigint {
  const price = BigInt(pricing.microUsdPerMegapixel);
  const perImage =
    pricing.rounding === 'ceil_per_image'
      ? BigInt(unitsPerImage(pixels, 'ceil_per_image')) * price
      : divCeil(BigInt(pixels) * price, MEGAPIXEL);
  return perImage * BigInt(count);
}

function safeOrThrow(v: bigint): number {
  const n = toSafe(v);
  if (n === null) throw new RangeError('amount exceeds Number.MAX_SAFE_INTEGER µUSD');
  return n;
}

/** The pre-flight quote (an upper bound: see `quoteSize`), reserved against budgets before forwarding. */
export function quote(input: Sd35Input, pricing: Pricing): Quote {
  assertPrice(pricing.microUsdPerMegapixel);
  const numImages = input.num_images ?? 1;
  if (!Number.isSafeInteger(numImages) || numImages < 0) throw new RangeError(`invalid num_images ${String(numImages)}`);
  const size = quoteSize(input);
  const pixels = pixelsOf(size);
  return {
    width: size.width,
    height: size.height,
    numImages,
    megapixels: megapixelsOf(pixels * numImages),
    units: pricing.rounding === 'exact' ? megapixelsOf(pixels * numImages) : unitsPerImage(pixels, pricing.rounding) * numImages,
    microUsd: safeOrThrow(microUsdOf(pixels, numImages, pricing)),
  };
}

/**
 * µUSD to reserve: an upper bound of what fal can bill for `input` under every rule the gateway
 * supports, whatever `PRICE_ROUNDING` says about the displayed estimate. Each image is taken at the
 * `auto_fix` round-up of its size (`quoteSize`) and rounded up to whole megapixels: that is ≥ the
 * exact rule's per-image micro-USD ceiling, so `exact` only changes the estimate, never the hold.
 */
export function reservationMicro(input: Sd35Input, microUsdPerMegapixel: number): number {
  assertPrice(microUsdPerMegapixel);
  const numImages = input.num_images ?? 1;
  if (!Number.isSafeInteger(numImages) || numImages < 0) throw new RangeError(`invalid num_images ${String(numImages)}`);
  return safeOrThrow(microUsdOf(pixelsOf(quoteSize(input)), numImages, { microUsdPerMegapixel, rounding: 'ceil_per_image' }));
}

/**
 * Cost of the images fal actually returned (`images[].width/height`), the settlement fallback when
 * `x-fal-billable-units` is absent. Throws RangeError on sizes that are not non-negative integers:
 * callers check fal's output before calling.
 */
export function costOfImages(images: readonly Dimensions[], pricing: Pricing): { units: number; microUsd: number } {
  assertPrice(pricing.microUsdPerMegapixel);
  let units = 0;
  let pixelsTotal = 0;
  let micro = 0n;
  for (const image of images) {
    const pixels = pixelsOf(image);
    pixelsTotal += pixels;
    if (pricing.rounding === 'ceil_per_image') units += unitsPerImage(pixels, 'ceil_per_image');
    micro += microUsdOf(pixels, 1, pricing);
  }
  return { units: pricing.rounding === 'exact' ? megapixelsOf(pixelsTotal) : units, microUsd: safeOrThrow(micro) };
}

/**
 * µUSD for fal's `x-fal-billable-units` value ("2", "0", "1.5"): exact decimal × price, rounded
 * half-up to a whole µUSD. `null` for anything malformed (sign, exponent, empty, non-numeric) or
 * absurdly large, so a bad header falls back to other evidence instead of corrupting the ledger.
 */
export function costOfBillableUnits(headerValue: string, microUsdPerMegapixel: number): number | null {
  assertPrice(microUsdPerMegapixel);
  const units = parseDecimal(headerValue.trim());
  if (!units) return null;
  return toSafe(divHalfUp(units.digits * BigInt(microUsdPerMegapixel), pow10(units.scale)));
}

/**
 * USD number → µUSD. Works from the number's shortest decimal form (`String(usd)`), so any amount
 * written with ≤ 6 decimals converts exactly (0.1 + 0.2 → 300000); more decimals round half-up.
 */
export function usdToMicro(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`invalid USD amount: ${String(usd)}`);
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(usd));
  if (!m) throw new RangeError(`invalid USD amount: ${String(usd)}`);
  const frac = m[2] ?? '';
  const micro = decimalToMicro(BigInt(`${m[1] ?? ''}${frac}`), frac.length - Number(m[3] ?? '0'), false);
  return safeOrThrow(micro ?? 0n);
}

/**
 * µUSD → fixed 6-decimal USD string ("0.020000", "-1.500000") for headers and JSON edges: exact,
 * never exponent notation, fixed width so clients can parse it with any decimal parser.
 */
export function microToUsd(micro: number): string {
  if (!Number.isSafeInteger(micro)) throw new RangeError(`invalid µUSD amount: ${String(micro)}`);
  const abs = Math.abs(micro);
  const rest = abs % MICRO_USD_PER_USD; // integer split, exact for every safe integer
  const whole = (abs - rest) / MICRO_USD_PER_USD;
  const frac = String(rest).padStart(6, '0');
  return `${micro < 0 ? '-' : ''}${whole}.${frac}`;
}

/** µUSD → USD as a JSON number (nearest double; display only, never for arithmetic). */
export function microToUsdNumber(micro: number): number {
  return Number(microToUsd(micro));
}

/**
 * `PRICE_PER_MEGAPIXEL_USD` ("0.02") → µUSD per megapixel (20000). Exact decimal parse; `null` for
 * signs, exponents, sub-µUSD precision ("0.0000001") or prices above `MAX_MICRO_USD_PER_MEGAPIXEL`.
 */
export function parsePricePerMegapixel(usd: string): number | null {
  const parsed = parseDecimal(usd.trim());
  if (!parsed) return null;
  const micro = decimalToMicro(parsed.digits, parsed.scale, true);
  if (micro === null || micro > BigInt(MAX_MICRO_USD_PER_MEGAPIXEL)) return null;
  return Number(micro);
}
