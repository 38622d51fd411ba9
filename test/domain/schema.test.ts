import { describe, expect, it } from 'vitest';
import { ImageSizeSchema, Sd35InputSchema, Sd35OutputSchema } from '../../src/domain/schema.js';

/** Facts from docs/fal-protocol.md §1.2–§1.4, checked field by field. */
describe('mirrored schema', () => {
  const props = JSON.parse(JSON.stringify(Sd35InputSchema.properties)) as Record<string, Record<string, unknown>>;

  it('lists the fields in x-fal-order-properties order with only prompt required', () => {
    expect(Object.keys(props)).toEqual([
      'prompt',
      'negative_prompt',
      'image_size',
      'num_inference_steps',
      'seed',
      'guidance_scale',
      'sync_mode',
      'num_images',
      'enable_safety_checker',
      'output_format',
      'auto_fix',
    ]);
    expect(Sd35InputSchema.required).toEqual(['prompt']);
    expect(Sd35InputSchema.additionalProperties).toBe(false);
  });

  it.each([
    ['negative_prompt', { type: 'string', default: '' }],
    ['num_inference_steps', { type: 'integer', minimum: 1, maximum: 50, default: 40 }],
    ['guidance_scale', { type: 'number', minimum: 0, maximum: 20, default: 4.5, title: 'Guidance scale (CFG)' }],
    ['sync_mode', { type: 'boolean', default: false }],
    ['num_images', { type: 'integer', minimum: 1, maximum: 4, default: 1 }],
    ['enable_safety_checker', { type: 'boolean', default: true }],
    ['output_format', { type: 'string', enum: ['jpeg', 'png'], default: 'jpeg' }],
    ['auto_fix', { type: 'boolean', default: true }],
  ])('declares %s as fal does', (name, expected) => {
    expect(props[name]).toMatchObject(expected);
  });

  it('declares seed as an unbounded integer without a default', () => {
    expect(props.seed).toMatchObject({ type: 'integer' });
    expect(props.seed).not.toHaveProperty('minimum');
    expect(props.seed).not.toHaveProperty('maximum');
    expect(props.seed).not.toHaveProperty('default');
  });

  it('declares image_size as anyOf ImageSize or a preset, default landscape_4_3', () => {
    expect(props.image_size).toMatchObject({
      default: 'landscape_4_3',
      anyOf: [
        { type: 'object' },
        { type: 'string', enum: ['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'] },
      ],
    });
    for (const side of ['width', 'height'] as const) {
      expect(ImageSizeSchema.properties[side]).toMatchObject({ type: 'integer', exclusiveMinimum: 0, maximum: 14142, default: 512 });
    }
  });

  it('requires the five output fields and lets images carry unknown fields', () => {
    expect(Sd35OutputSchema.required).toEqual(['images', 'timings', 'seed', 'has_nsfw_concepts', 'prompt']);
    expect(Sd35OutputSchema.properties.images.items.required).toEqual(['url']);
    expect(Sd35OutputSchema.properties.images.items.additionalProperties).toBe(true);
  });
});
