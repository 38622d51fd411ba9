/**
 * Per-key policy, enforced before any spend (docs/design.md §2 step 4): what a key may ask fal for.
 * fal's schema allows 14142×14142 images (about $4 each at $0.02/MP), so a global per-image cap
 * applies to every key unless its policy sets its own.
 */
import { pixelsOf, quoteSize } from './megapixels.js';
import type { Sd35Input } from './schema.js';
import type { ValidationIssue } from './validation.js';

export interface KeyPolicy {
  /** Largest image, in megapixels (10^6 px), after the auto_fix round-up the quote assumes. */
  maxMegapixelsPerImage?: number;
  maxNumImages?: number;
  /** Allowed `image_size` presets; `custom` allows `{width,height}` objects. */
  allowedImageSizes?: string[];
  /** When true, `enable_safety_checker: false` is refused. */
  requireSafetyChecker?: boolean;
  maxPromptLength?: number;
}

export type PolicyVerdict = { ok: true } | { ok: false; status: 422; issues: ValidationIssue[] } | { ok: false; status: 403; detail: string };

/** Checks a validated input against a key's policy and the gateway's global per-image cap. */
export function checkPolicy(input: Sd35Input, policy: KeyPolicy | null, globalMaxMegapixelsPerImage: number): PolicyVerdict {
  const p = policy ?? {};
  if (p.requireSafetyChecker && input.enable_safety_checker === false) {
    return { ok: false, status: 403, detail: 'This key requires enable_safety_checker to be true' };
  }
  const issues: ValidationIssue[] = [];
  const size = input.image_size;
  const sizeName = typeof size === 'string' ? size : size === undefined ? 'landscape_4_3' : 'custom';
  if (p.allowedImageSizes && !p.allowedImageSizes.includes(sizeName)) {
    const expected = p.allowedImageSizes.map((s) => `'${s}'`).join(', ');
    issues.push({ loc: ['body', 'image_size'], msg: `This key allows image_size ${expected}`, type: 'literal_error', ctx: { expected }, input: size });
  }
  const maxMp = Math.min(p.maxMegapixelsPerImage ?? Infinity, globalMaxMegapixelsPerImage);
  const mp = pixelsOf(quoteSize(input)) / 1e6;
  if (mp > maxMp) {
    issues.push({ loc: ['body', 'image_size'], msg: `Images are limited to ${maxMp} megapixels for this key (this one is ${mp.toFixed(3)})`, type: 'image_too_large', ctx: { max_megapixels: maxMp }, input: size });
  }
  const n = input.num_images ?? 1;
  if (p.maxNumImages !== undefined && n > p.maxNumImages) {
    issues.push({ loc: ['body', 'num_images'], msg: `Input should be less than or equal to ${p.maxNumImages}`, type: 'less_than_equal', ctx: { le: p.maxNumImages }, input: n });
  }
  if (p.maxPromptLength !== undefined) {
    for (const field of ['prompt', 'negative_prompt'] as const) {
      const text = input[field];
      if (typeof text === 'string' && text.length > p.maxPromptLength) {
        issues.push({ loc: ['body', field], msg: `String should have at most ${p.maxPromptLength} characters`, type: 'string_too_long', ctx: { max_length: p.maxPromptLength }, input: text.slice(0, 100) });
      }
    }
  }
  return issues.length === 0 ? { ok: true } : { ok: false, status: 422, issues };
}
