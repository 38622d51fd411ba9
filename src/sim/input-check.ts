/**
 * The sim's own light version of fal's pydantic validation for SD3.5-Medium's input
 * (docs/fal-protocol.md §1.2, §1.3, §2.7), independent of the gateway's checks so tests can tell them apart.
 * Errors are collected, not short-circuited, as pydantic does.
 *
 * auto_fix: fal does not publish SD3.5-M's "compatible" sizes. The sim's documented choice is
 * multiples of 64; auto_fix true rounds each side to the nearest one (min 64), false refuses.
 */
import { rawTopLevelMember, readSeed } from './raw-seed.js';

export type ImageFormat = 'jpeg' | 'png';

export interface SimInput {
  prompt: string;
  numImages: number;
  /** Per-image size after auto_fix. */
  width: number;
  height: number;
  format: ImageFormat;
  syncMode: boolean;
  /** Digits to echo verbatim; undefined when the caller sent none. */
  seed: string | undefined;
}

/** One pydantic-style entry of fal's 422 `{"detail":[...]}`. */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
  input?: unknown;
}

export type InputCheck = { ok: true; input: SimInput } | { ok: false; errors: FieldError[] };

export const IMAGE_SIZE_PRESETS: Readonly<Record<string, { width: number; height: number }>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 },
};

const SIZE_MULTIPLE = 64;
const MAX_SIDE = 14142;

export function checkInput(bodyText: string, maxMegapixelsPerImage: number): InputCheck {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch (err) {
    const error = err instanceof Error ? err.message : 'invalid JSON';
    return fail([{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid', ctx: { error } }]);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail([{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type', input: body }]);
  }
  const fields = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  const prompt = fields.prompt;
  if (prompt === undefined) errors.push({ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' });
  else if (typeof prompt !== 'string') errors.push(typeError('prompt', prompt, 'string_type', 'a valid string'));
  if (fields.negative_prompt !== undefined && typeof fields.negative_prompt !== 'string') {
    errors.push(typeError('negative_prompt', fields.negative_prompt, 'string_type', 'a valid string'));
  }
  const numImages = intIn(errors, ['body', 'num_images'], fields.num_images, 1, 1, 4);
  intIn(errors, ['body', 'num_inference_steps'], fields.num_inference_steps, 40, 1, 50);
  numberIn(errors, 'guidance_scale', fields.guidance_scale, 0, 20);
  const syncMode = bool(errors, 'sync_mode', fields.sync_mode, false);
  const autoFix = bool(errors, 'auto_fix', fields.auto_fix, true);
  bool(errors, 'enable_safety_checker', fields.enable_safety_checker, true);
  const format = fields.output_format ?? 'jpeg';
  if (format !== 'jpeg' && format !== 'png') {
    errors.push({ loc: ['body', 'output_format'], msg: "Input should be 'jpeg' or 'png'", type: 'enum', ctx: { expected: "'jpeg' or 'png'" }, input: format });
  }
  const size = imageSize(errors, fields.image_size);
  const seed = readSeed(fields.seed, rawTopLevelMember(bodyText, 'seed'));
  if (!seed.ok) errors.push({ loc: ['body', 'seed'], msg: seed.msg, type: seed.type, input: fields.seed });
  if (errors.length > 0 || !seed.ok || size === undefined || typeof prompt !== 'string') return fail(errors);

  const width = fitSide(size.width);
  const height = fitSide(size.height);
  if (!autoFix && (width !== size.width || height !== size.height)) {
    return fail([{ loc: ['body', 'image_size'], msg: `Image size ${size.width}x${size.height} is not compatible with this model; width and height must be multiples of ${SIZE_MULTIPLE} (or set auto_fix)`, type: 'image_size_incompatible', ctx: { multiple_of: SIZE_MULTIPLE }, input: fields.image_size }]);
  }
  const megapixels = (width * height) / 1e6;
  if (megapixels > maxMegapixelsPerImage) {
    return fail([{ loc: ['body', 'image_size'], msg: `Image of ${width}x${height} is too large; at most ${maxMegapixelsPerImage} megapixels per image`, type: 'image_too_large', ctx: { max_megapixels: maxMegapixelsPerImage }, input: fields.image_size }]);
  }
  return { ok: true, input: { prompt, numImages, width, height, format: format === 'png' ? 'png' : 'jpeg', syncMode, seed: seed.seed } };
}

/** Nearest multiple of 64, at least 64. */
function fitSide(side: number): number {
  return Math.max(SIZE_MULTIPLE, Math.round(side / SIZE_MULTIPLE) * SIZE_MULTIPLE);
}

function imageSize(errors: FieldError[], value: unknown): { width: number; height: number } | undefined {
  if (value === undefined) return IMAGE_SIZE_PRESETS.landscape_4_3;
  if (typeof value === 'string') {
    const preset = IMAGE_SIZE_PRESETS[value];
    if (preset !== undefined) return preset;
    const expected = Object.keys(IMAGE_SIZE_PRESETS).map((k) => `'${k}'`).join(', ');
    errors.push({ loc: ['body', 'image_size'], msg: `Input should be ${expected} or a valid ImageSize object`, type: 'enum', ctx: { expected }, input: value });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push({ loc: ['body', 'image_size'], msg: 'Input should be a valid ImageSize object or preset name', type: 'model_type', input: value });
    return undefined;
  }
  const size = value as Record<string, unknown>;
  const before = errors.length;
  const width = sideIn(errors, 'width', size.width);
  const height = sideIn(errors, 'height', size.height);
  return errors.length === before ? { width, height } : undefined;
}

function sideIn(errors: FieldError[], side: 'width' | 'height', value: unknown): number {
  const loc = ['body', 'image_size', side];
  if (value !== undefined && typeof value === 'number' && Number.isInteger(value) && value <= 0) {
    errors.push({ loc, msg: 'Input should be greater than 0', type: 'greater_than', ctx: { gt: 0 }, input: value });
    return 0;
  }
  return intIn(errors, loc, value, 512, 1, MAX_SIDE);
}

function intIn(errors: FieldError[], loc: (string | number)[], value: unknown, fallback: number, ge: number, le: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const fractional = typeof value === 'number' && Number.isFinite(value);
    errors.push(fractional
      ? { loc, msg: 'Input should be a valid integer, got a number with a fractional part', type: 'int_from_float', input: value }
      : { loc, msg: 'Input should be a valid integer', type: 'int_type', input: value });
    return fallback;
  }
  if (value < ge) errors.push({ loc, msg: `Input should be greater than or equal to ${ge}`, type: 'greater_than_equal', ctx: { ge }, input: value });
  else if (value > le) errors.push({ loc, msg: `Input should be less than or equal to ${le}`, type: 'less_than_equal', ctx: { le }, input: value });
  return value;
}

function numberIn(errors: FieldError[], field: string, value: unknown, ge: number, le: number): void {
  if (value === undefined) return;
  const loc = ['body', field];
  if (typeof value !== 'number') errors.push(typeError(field, value, 'float_type', 'a valid number'));
  else if (value < ge) errors.push({ loc, msg: `Input should be greater than or equal to ${ge}`, type: 'greater_than_equal', ctx: { ge }, input: value });
  else if (value > le) errors.push({ loc, msg: `Input should be less than or equal to ${le}`, type: 'less_than_equal', ctx: { le }, input: value });
}

function bool(errors: FieldError[], field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  errors.push(typeError(field, value, 'bool_type', 'a valid boolean'));
  return fallback;
}

function typeError(field: string, input: unknown, type: string, what: string): FieldError {
  return { loc: ['body', field], msg: `Input should be ${what}`, type, input };
}

function fail(errors: FieldError[]): InputCheck {
  return { ok: false, errors };
}
