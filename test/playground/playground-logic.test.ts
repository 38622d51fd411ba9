/**
 * The playground's pure parts: the body the form sends, the snippets (never the credential), and
 * money read from the gateway's USD edges into integer micro-USD.
 */
import { describe, expect, it } from 'vitest';
import { createInputValidator } from '../../src/domain/validation.js';
import { formatMicro, parseUsd } from '../../web/shared/money.js';
import { buildInput, FIELDS, initialValues } from '../../web/playground/fields.js';
import { pythonLiteral, shellQuote, snippets } from '../../web/playground/snippets.js';

describe('the form', () => {
  it('has a control for every field of the mirrored schema, with its default', () => {
    expect(FIELDS.map((f) => f.name)).toEqual(['prompt', 'negative_prompt', 'image_size', 'num_inference_steps', 'seed', 'guidance_scale', 'sync_mode', 'num_images', 'enable_safety_checker', 'output_format', 'auto_fix']);
    expect(FIELDS.find((f) => f.name === 'num_images')).toMatchObject({ minimum: 1, maximum: 4, defaultValue: 1, integer: true });
    expect(initialValues()).toMatchObject({ image_size: 'landscape_4_3', num_inference_steps: '40', guidance_scale: '4.5', sync_mode: 'false', seed: '' });
  });

  it('sends the prompt, the size and only what differs from the defaults, and never sync_mode', () => {
    const values = { ...initialValues(), prompt: 'a fox', num_images: '2', seed: '7', sync_mode: 'true', enable_safety_checker: 'false' };
    expect(buildInput(values)).toEqual({ prompt: 'a fox', image_size: 'landscape_4_3', seed: 7, num_images: 2, enable_safety_checker: false });
    expect(buildInput({ ...initialValues(), prompt: 'p', image_size: 'custom', width: '640', height: '480' })).toEqual({ prompt: 'p', image_size: { width: 640, height: 480 } });
  });

  it('builds bodies the gateway validator accepts', () => {
    const validate = createInputValidator({ unknownFields: 'reject' });
    const body = buildInput({ ...initialValues(), prompt: 'ok', guidance_scale: '7.5', output_format: 'png' });
    expect(validate(body)).toMatchObject({ ok: true });
  });
});

describe('the snippets', () => {
  const input = { prompt: "it's a \"fox\"", image_size: 'square' as const, enable_safety_checker: false };
  const s = snippets('https://gw.example.com', input);

  it('read the credential from $FAL_GATEWAY_KEY in every language', () => {
    expect(s.curl).toContain('Authorization: Key $FAL_GATEWAY_KEY');
    expect(s.js).toContain('credentials: process.env.FAL_GATEWAY_KEY');
    expect(s.python).toContain('os.environ["FAL_GATEWAY_KEY"]');
  });

  it('carry the exact body: shell-quoted for curl, a Python literal for fal_client', () => {
    expect(s.curl).toContain(`-d ${shellQuote(JSON.stringify(input))}`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(pythonLiteral(input)).toBe('{\n    "prompt": "it\'s a \\"fox\\"",\n    "image_size": "square",\n    "enable_safety_checker": False,\n}');
    expect(s.python).toContain('os.environ["FAL_QUEUE_RUN_HOST"] = "gw.example.com/queue"');
    expect(s.js).toContain("'https://queue.fal.run/', `${GW}/queue/`");
  });

  it('warn that fal_client needs https when the gateway is reached over http', () => {
    expect(snippets('http://127.0.0.1:3000', input).python).toContain('put TLS in front');
    expect(s.python).not.toContain('put TLS in front');
  });
});

describe('money on the page', () => {
  it('reads USD edges into exact micro-USD and formats them back', () => {
    expect(parseUsd('0.020000')).toBe(20_000);
    expect(parseUsd(0.015729)).toBe(15_729);
    expect(parseUsd(0.1 + 0.2)).toBe(300_000);
    expect(parseUsd('abc')).toBeNull();
    expect(parseUsd('-1')).toBeNull();
    expect(parseUsd(null)).toBeNull();
    expect(formatMicro(20_000)).toBe('$0.02');
    expect(formatMicro(15_729)).toBe('$0.015729');
    expect(formatMicro(-1_500_000)).toBe('−$1.50');
  });
});
