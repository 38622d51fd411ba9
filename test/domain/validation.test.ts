import { describe, expect, it } from 'vitest';
import { createInputValidator, type InputValidation, type ValidationIssue } from '../../src/domain/validation.js';

const reject = createInputValidator({ unknownFields: 'reject' });
const forward = createInputValidator({ unknownFields: 'forward' });

const PRESETS = "'square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3' or 'landscape_16_9'";

function issuesOf(result: InputValidation): ValidationIssue[] {
  if (result.ok) throw new Error('expected the body to be refused');
  return result.issues;
}

describe('valid bodies', () => {
  it('accepts a minimal body and returns the same object, without defaults or coercion', () => {
    const body = { prompt: 'a cat' };
    const result = reject(body);
    expect(result).toEqual({ ok: true, input: body });
    expect(result.ok && result.input).toBe(body);
    expect(body).toEqual({ prompt: 'a cat' });
  });

  it('accepts every field at its documented bounds', () => {
    for (const v of [reject, forward]) {
      for (const edge of [
        { num_inference_steps: 1, guidance_scale: 0, num_images: 1, image_size: { width: 1, height: 1 } },
        { num_inference_steps: 50, guidance_scale: 20, num_images: 4, image_size: { width: 14142, height: 14142 } },
      ]) {
        const body = {
          prompt: 'p',
          negative_prompt: '',
          seed: -3,
          sync_mode: true,
          enable_safety_checker: false,
          output_format: 'png',
          auto_fix: false,
          ...edge,
        };
        expect(v(body).ok).toBe(true);
      }
    }
  });

  it.each(['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'])('accepts preset %s', (preset) => {
    expect(reject({ prompt: 'p', image_size: preset }).ok).toBe(true);
  });

  it('accepts an image_size object with either side omitted', () => {
    expect(reject({ prompt: 'p', image_size: {} }).ok).toBe(true);
    expect(reject({ prompt: 'p', image_size: { height: 64 } }).ok).toBe(true);
  });

  it('accepts a seed above 2^53 as an integer (fal webhook doc example)', () => {
    const body: unknown = JSON.parse('{"prompt":"x","seed":196619188014358660}');
    expect(reject(body).ok).toBe(true);
  });

  it('accepts an integral float such as 2.0 for an integer field, as JSON cannot tell them apart', () => {
    expect(reject(JSON.parse('{"prompt":"x","num_images":2.0}')).ok).toBe(true);
  });
});

describe('pydantic v2 issues per error class', () => {
  const cases: [string, Record<string, unknown>, ValidationIssue][] = [
    ['missing', {}, { loc: ['body', 'prompt'], msg: 'Field required', type: 'missing', input: {} }],
    ['string_type', { prompt: 5 }, { loc: ['body', 'prompt'], msg: 'Input should be a valid string', type: 'string_type', input: 5 }],
    ['string_type (null)', { prompt: 'p', negative_prompt: null }, { loc: ['body', 'negative_prompt'], msg: 'Input should be a valid string', type: 'string_type', input: null }],
    ['less_than_equal', { prompt: 'p', num_inference_steps: 51 }, { loc: ['body', 'num_inference_steps'], msg: 'Input should be less than or equal to 50', type: 'less_than_equal', ctx: { le: 50 }, input: 51 }],
    ['greater_than_equal', { prompt: 'p', num_inference_steps: 0 }, { loc: ['body', 'num_inference_steps'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal', ctx: { ge: 1 }, input: 0 }],
    ['num_images le 4', { prompt: 'p', num_images: 5 }, { loc: ['body', 'num_images'], msg: 'Input should be less than or equal to 4', type: 'less_than_equal', ctx: { le: 4 }, input: 5 }],
    ['guidance_scale le 20', { prompt: 'p', guidance_scale: 20.5 }, { loc: ['body', 'guidance_scale'], msg: 'Input should be less than or equal to 20', type: 'less_than_equal', ctx: { le: 20 }, input: 20.5 }],
    ['guidance_scale ge 0', { prompt: 'p', guidance_scale: -0.1 }, { loc: ['body', 'guidance_scale'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal', ctx: { ge: 0 }, input: -0.1 }],
    ['int_type (no coercion of "2")', { prompt: 'p', num_images: '2' }, { loc: ['body', 'num_images'], msg: 'Input should be a valid integer', type: 'int_type', input: '2' }],
    ['int_type (seed string)', { prompt: 'p', seed: '1' }, { loc: ['body', 'seed'], msg: 'Input should be a valid integer', type: 'int_type', input: '1' }],
    ['int_from_float', { prompt: 'p', seed: 1.5 }, { loc: ['body', 'seed'], msg: 'Input should be a valid integer, got a number with a fractional part', type: 'int_from_float', input: 1.5 }],
    ['float_type', { prompt: 'p', guidance_scale: '4.5' }, { loc: ['body', 'guidance_scale'], msg: 'Input should be a valid number', type: 'float_type', input: '4.5' }],
    ['bool_type', { prompt: 'p', sync_mode: 'true' }, { loc: ['body', 'sync_mode'], msg: 'Input should be a valid boolean', type: 'bool_type', input: 'true' }],
    ['bool_type (1)', { prompt: 'p', enable_safety_checker: 1 }, { loc: ['body', 'enable_safety_checker'], msg: 'Input should be a valid boolean', type: 'bool_type', input: 1 }],
    ['bool_type (null)', { prompt: 'p', auto_fix: null }, { loc: ['body', 'auto_fix'], msg: 'Input should be a valid boolean', type: 'bool_type', input: null }],
    ['literal_error', { prompt: 'p', output_format: 'webp' }, { loc: ['body', 'output_format'], msg: "Input should be 'jpeg' or 'png'", type: 'literal_error', ctx: { expected: "'jpeg' or 'png'" }, input: 'webp' }],
    ['literal_error (case)', { prompt: 'p', output_format: 'JPEG' }, { loc: ['body', 'output_format'], msg: "Input should be 'jpeg' or 'png'", type: 'literal_error', ctx: { expected: "'jpeg' or 'png'" }, input: 'JPEG' }],
    ['finite_number (NaN)', { prompt: 'p', guidance_scale: Number.NaN }, { loc: ['body', 'guidance_scale'], msg: 'Input should be a finite number', type: 'finite_number', input: Number.NaN }],
    ['finite_number (Infinity)', { prompt: 'p', num_images: Number.POSITIVE_INFINITY }, { loc: ['body', 'num_images'], msg: 'Input should be a finite number', type: 'finite_number', input: Number.POSITIVE_INFINITY }],
  ];
  it.each(cases)('%s', (_name, body, expected) => {
    expect(issuesOf(reject(body))).toEqual([expected]);
    expect(issuesOf(forward(body))).toEqual([expected]);
  });

  it('reports only the type error when a value has the wrong type and is out of range', () => {
    expect(issuesOf(reject({ prompt: 'p', num_images: 0.5 }))).toEqual([
      { loc: ['body', 'num_images'], msg: 'Input should be a valid integer, got a number with a fractional part', type: 'int_from_float', input: 0.5 },
    ]);
  });
});

describe('image_size anyOf', () => {
  it('reports a string against the preset enum only', () => {
    expect(issuesOf(reject({ prompt: 'p', image_size: 'huge' }))).toEqual([
      { loc: ['body', 'image_size'], msg: `Input should be ${PRESETS}`, type: 'literal_error', ctx: { expected: PRESETS }, input: 'huge' },
    ]);
  });

  it('reports an object against width/height only, one issue per side', () => {
    expect(issuesOf(reject({ prompt: 'p', image_size: { width: 0, height: 14143 } }))).toEqual([
      { loc: ['body', 'image_size', 'width'], msg: 'Input should be greater than 0', type: 'greater_than', ctx: { gt: 0 }, input: 0 },
      { loc: ['body', 'image_size', 'height'], msg: 'Input should be less than or equal to 14142', type: 'less_than_equal', ctx: { le: 14142 }, input: 14143 },
    ]);
    expect(issuesOf(reject({ prompt: 'p', image_size: { width: 512.5, height: 'x' } }))).toEqual([
      { loc: ['body', 'image_size', 'width'], msg: 'Input should be a valid integer, got a number with a fractional part', type: 'int_from_float', input: 512.5 },
      { loc: ['body', 'image_size', 'height'], msg: 'Input should be a valid integer', type: 'int_type', input: 'x' },
    ]);
  });

  it.each([5, true, null, [], [512, 512]])('reports %j as one issue naming both accepted forms', (value) => {
    const expected = `an object {width, height} or ${PRESETS}`;
    expect(issuesOf(reject({ prompt: 'p', image_size: value }))).toEqual([
      { loc: ['body', 'image_size'], msg: `Input should be ${expected}`, type: 'image_size_type', ctx: { expected }, input: value },
    ]);
  });
});

describe('unknown fields', () => {
  it('refuses them with extra_forbidden under reject, top level and inside image_size', () => {
    expect(issuesOf(reject({ prompt: 'p', lora: 'x', image_size: { width: 64, depth: 3 } }))).toEqual([
      { loc: ['body', 'image_size', 'depth'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden', input: 3 },
      { loc: ['body', 'lora'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden', input: 'x' },
    ]);
  });

  it('treats an own "__proto__" key as an ordinary unknown field', () => {
    const body: unknown = JSON.parse('{"prompt":"p","__proto__":{"polluted":true}}');
    expect(issuesOf(reject(body))).toEqual([
      { loc: ['body', '__proto__'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden', input: { polluted: true } },
    ]);
  });

  it('accepts them untouched under forward', () => {
    const body = { prompt: 'p', lora: { scale: 1 }, image_size: { width: 64, depth: 3 } };
    const snapshot = structuredClone(body);
    const result = forward(body);
    expect(result.ok && result.input).toBe(body);
    expect(body).toEqual(snapshot);
  });

  it('still validates the known fields under forward', () => {
    expect(issuesOf(forward({ prompt: 'p', extra: 1, num_images: 9 }))).toEqual([
      { loc: ['body', 'num_images'], msg: 'Input should be less than or equal to 4', type: 'less_than_equal', ctx: { le: 4 }, input: 9 },
    ]);
  });
});

describe('root and ordering', () => {
  const rootIssue = (input: unknown): ValidationIssue => ({
    loc: ['body'],
    msg: 'Input should be a valid dictionary or object to extract fields from',
    type: 'model_attributes_type',
    input,
  });

  it.each([null, [], [{ prompt: 'p' }], 'text', 42, true, undefined])('refuses a non-object root %j', (body) => {
    expect(issuesOf(reject(body))).toEqual([rootIssue(body)]);
  });

  it('refuses a JSON string that contains JSON', () => {
    const body: unknown = JSON.parse(JSON.stringify(JSON.stringify({ prompt: 'p' })));
    expect(typeof body).toBe('string');
    expect(issuesOf(reject(body))).toEqual([rootIssue(body)]);
  });

  it('reports every problem at once in schema field order, unknown fields last in body order', () => {
    const body = { zeta: 1, output_format: 'gif', num_images: 0, image_size: 'x', alpha: 2, negative_prompt: 3 };
    const issues = issuesOf(reject(body));
    expect(issues.map((i) => i.loc.join('.'))).toEqual([
      'body.prompt',
      'body.negative_prompt',
      'body.image_size',
      'body.num_images',
      'body.output_format',
      'body.zeta',
      'body.alpha',
    ]);
    expect(issuesOf(reject(body))).toEqual(issues);
  });

  it('never reports the same issue twice', () => {
    const issues = issuesOf(reject({ prompt: 1, image_size: { width: -1, height: -1 }, num_images: 'x', seed: 0.1 }));
    const keys = issues.map((i) => `${i.loc.join('.')}|${i.type}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual([
      'body.prompt|string_type',
      'body.image_size.width|greater_than',
      'body.image_size.height|greater_than',
      'body.seed|int_from_float',
      'body.num_images|int_type',
    ]);
  });
});
