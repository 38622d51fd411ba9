import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { call, imageBytes, imageDimensions, json, outputImages, runModel, startSim } from './sim-client.js';

let sim: FalSim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

describe('sync run on the run listener', () => {
  it('answers 401 with fal\'s body when the key is missing or wrong', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Key wrong:key' }, { authorization: 'Bearer test-key-id:test-key-secret' }];
    for (const headers of attempts) {
      const r = await runModel(sim, { prompt: 'a cat' }, headers);
      expect(r.status).toBe(401);
      expect(json(r)).toEqual({ detail: 'No user found for Key ID and Secret' });
    }
  });

  it('returns fal\'s output shape with request id and billable units headers', async () => {
    const r = await runModel(sim, { prompt: 'a cat', image_size: 'square' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-fal-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('x-fal-billable-units')).toBe('1');
    const body = json(r);
    expect(Object.keys(body)).toEqual(['images', 'timings', 'seed', 'has_nsfw_concepts', 'prompt']);
    expect(body.prompt).toBe('a cat');
    expect(body.has_nsfw_concepts).toEqual([false]);
    expect(body.timings).toEqual({ inference: expect.any(Number) as number });
    const [image] = outputImages(r);
    expect(image).toMatchObject({ width: 512, height: 512, content_type: 'image/jpeg', file_name: '0.jpeg' });
  });

  it('serves real JPEG files of the exact size at public /files URLs', async () => {
    const r = await runModel(sim, { prompt: 'x', image_size: { width: 320, height: 192 }, num_images: 2 });
    const images = outputImages(r);
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(image.url.startsWith(`${sim.runUrl}/files/`)).toBe(true);
      const file = await fetch(image.url); // no Authorization: CDN URLs are public
      expect(file.headers.get('content-type')).toBe('image/jpeg');
      const bytes = Buffer.from(await file.arrayBuffer());
      expect(bytes.length).toBe(image.file_size);
      expect(imageDimensions(bytes)).toEqual({ format: 'jpeg', width: 320, height: 192 });
      const decoded = jpeg.decode(bytes, { useTArray: true });
      expect([decoded.width, decoded.height]).toEqual([320, 192]);
    }
  });

  it('returns PNG data URIs and stores nothing when sync_mode is true', async () => {
    const r = await runModel(sim, { prompt: 'x', image_size: { width: 128, height: 256 }, output_format: 'png', sync_mode: true });
    const [image] = outputImages(r);
    expect(image?.url.startsWith('data:image/png;base64,')).toBe(true);
    expect(image?.content_type).toBe('image/png');
    const bytes = await imageBytes(image?.url ?? '');
    const decoded = PNG.sync.read(bytes);
    expect([decoded.width, decoded.height]).toEqual([128, 256]);
    expect(image?.file_size).toBe(bytes.length);
  });

  it('echoes seeds above 2^53 byte for byte', async () => {
    for (const seed of ['196619188014358660', '18446744073709551617', '123456789012345678901234567890', '-9007199254740993']) {
      const r = await runModel(sim, `{"prompt":"x","image_size":"square","seed":${seed}}`);
      expect(r.status).toBe(200);
      expect(r.text).toContain(`"seed":${seed},`);
    }
  });

  it('picks a random integer seed in [0, 2^63) when none is given', async () => {
    const seeds = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await runModel(sim, { prompt: 'x', image_size: 'square' });
      const raw = /"seed":(\d+),/.exec(r.text)?.[1] ?? '';
      expect(BigInt(raw)).toBeLessThan(2n ** 63n);
      seeds.add(raw);
    }
    expect(seeds.size).toBe(3);
  });

  it('produces identical images for the same seed and different ones for another seed', async () => {
    const fetchFirst = async (seed: number): Promise<Buffer> => {
      const r = await runModel(sim, { prompt: 'x', seed, image_size: { width: 256, height: 128 } });
      return imageBytes(outputImages(r)[0]?.url ?? '');
    };
    const a = await fetchFirst(42);
    expect((await fetchFirst(42)).equals(a)).toBe(true);
    expect((await fetchFirst(43)).equals(a)).toBe(false);
  });

  it('bills ceil(megapixels) per image, so square_hd counts 2 units', async () => {
    const cases: [unknown, number][] = [
      [{ image_size: 'square_hd' }, 2],
      [{ image_size: 'square_hd', num_images: 3 }, 6],
      [{ image_size: 'landscape_4_3', num_images: 4 }, 4],
      [{ image_size: 'portrait_16_9' }, 1],
      [{ image_size: { width: 1000, height: 1000 } }, 2], // auto_fix → 1024×1024
    ];
    for (const [fields, units] of cases) {
      const r = await runModel(sim, { prompt: 'x', seed: 7, sync_mode: true, ...(fields as object) });
      expect(r.headers.get('x-fal-billable-units')).toBe(String(units));
      expect(sim.stats().billedByRequest[r.headers.get('x-fal-request-id') ?? '']).toBe(units);
    }
  });

  it('answers 404 for unknown paths and files, and 405 for a GET on the model', async () => {
    expect((await call(`${sim.runUrl}/fal-ai/flux/dev`, 'POST')).status).toBe(404);
    expect((await call(`${sim.runUrl}/files/nope/0.jpeg`, 'GET', {})).status).toBe(404);
    expect((await call(`${sim.runUrl}${MODEL_PATH}`, 'GET')).status).toBe(405);
  });
});
