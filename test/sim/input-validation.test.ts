import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PATH, REQUESTS_PREFIX } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { call, json, outputImages, post, runModel, startSim } from './sim-client.js';

let sim: FalSim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

interface Detail {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
  input?: unknown;
}

async function rejected(body: unknown): Promise<Detail[]> {
  const r = await runModel(sim, body);
  expect(r.status).toBe(422);
  expect(r.headers.get('x-fal-billable-units')).toBe('0');
  expect(r.headers.get('content-type')).toBe('application/json');
  return json(r).detail as Detail[];
}

describe('input validation (sim\'s pydantic-style 422s)', () => {
  it('reports num_images above 4 as less_than_equal with ctx and input', async () => {
    expect(await rejected({ prompt: 'x', num_images: 5 })).toEqual([
      { loc: ['body', 'num_images'], msg: 'Input should be less than or equal to 4', type: 'less_than_equal', ctx: { le: 4 }, input: 5 },
    ]);
  });

  it('collects every field error at once, including a missing prompt', async () => {
    const detail = await rejected({ num_inference_steps: 0, guidance_scale: 21, output_format: 'webp', sync_mode: 'yes' });
    expect(detail.map((d) => [d.loc.join('.'), d.type])).toEqual([
      ['body.prompt', 'missing'],
      ['body.num_inference_steps', 'greater_than_equal'],
      ['body.guidance_scale', 'less_than_equal'],
      ['body.sync_mode', 'bool_type'],
      ['body.output_format', 'enum'],
    ]);
  });

  it('rejects bad image sizes: unknown preset, zero and oversize sides, non-integers', async () => {
    expect((await rejected({ prompt: 'x', image_size: 'huge' }))[0]?.type).toBe('enum');
    const detail = await rejected({ prompt: 'x', image_size: { width: 0, height: 14143 } });
    expect(detail.map((d) => [d.loc.join('.'), d.type])).toEqual([
      ['body.image_size.width', 'greater_than'],
      ['body.image_size.height', 'less_than_equal'],
    ]);
    expect((await rejected({ prompt: 'x', image_size: { width: 64.5 } }))[0]?.type).toBe('int_from_float');
  });

  it('rejects bodies that are not JSON objects', async () => {
    expect((await rejected('not json'))[0]?.type).toBe('json_invalid');
    expect((await rejected([1, 2]))[0]?.type).toBe('model_attributes_type');
    expect((await rejected({ prompt: 'x', seed: 1.5 }))[0]?.type).toBe('int_from_float');
    expect((await rejected({ prompt: 'x', seed: '12' }))[0]?.type).toBe('int_type');
  });

  it('rounds sizes to multiples of 64 when auto_fix is on (the default)', async () => {
    const cases: [object, [number, number]][] = [
      [{ width: 1000, height: 700 }, [1024, 704]],
      [{ width: 1, height: 31 }, [64, 64]],
      [{}, [512, 512]],
    ];
    for (const [size, [w, h]] of cases) {
      const r = await runModel(sim, { prompt: 'x', image_size: size, sync_mode: true });
      expect(r.status).toBe(200);
      expect(outputImages(r)[0]).toMatchObject({ width: w, height: h });
    }
  });

  it('refuses a non-multiple of 64 with image_size_incompatible when auto_fix is false', async () => {
    const detail = await rejected({ prompt: 'x', image_size: { width: 1000, height: 768 }, auto_fix: false });
    expect(detail[0]).toMatchObject({ loc: ['body', 'image_size'], type: 'image_size_incompatible' });
    const ok = await runModel(sim, { prompt: 'x', image_size: { width: 640, height: 384 }, auto_fix: false, sync_mode: true });
    expect(ok.status).toBe(200);
  });

  it('refuses images above maxMegapixelsPerImage with image_too_large', async () => {
    const detail = await rejected({ prompt: 'x', image_size: { width: 4096, height: 4096 } });
    expect(detail[0]).toMatchObject({ type: 'image_too_large', ctx: { max_megapixels: 16 } });
  });

  it('validates queue submits up front: 422 with no job and nothing billed', async () => {
    const billedBefore = sim.stats().billedUnits;
    const r = await post(`${sim.queueUrl}${MODEL_PATH}`, { prompt: 'x', num_images: 0 });
    expect(r.status).toBe(422);
    expect(r.headers.get('x-fal-billable-units')).toBe('0');
    expect((json(r).detail as Detail[])[0]).toMatchObject({ loc: ['body', 'num_images'], type: 'greater_than_equal', ctx: { ge: 1 } });
    const id = r.headers.get('x-fal-request-id') ?? '';
    expect((await call(`${sim.queueUrl}${REQUESTS_PREFIX}/${id}/status`)).status).toBe(404);
    expect(sim.stats().billedUnits).toBe(billedBefore);
  });
});
