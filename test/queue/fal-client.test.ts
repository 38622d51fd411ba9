/** The real @fal-ai/client, pointed at the gateway with `proxyUrl`, works unchanged. */
import { ValidationError, createFalClient, type QueueStatus } from '@fal-ai/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let fal: ReturnType<typeof createFalClient>;
const MODEL = 'fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 300 });
  const { key } = await gw.createKey({ name: 'sdk' });
  fal = createFalClient({ credentials: key, proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: 'always' } });
});
afterAll(() => gw.close());

interface Output {
  images: { url: string; width: number; height: number }[];
  seed: number;
}

describe('@fal-ai/client through the gateway', () => {
  it('fal.run returns the output and the request id', async () => {
    const result = await fal.run(MODEL, { input: { prompt: 'a cat', image_size: 'square' } });
    const data = result.data as Output;
    expect(data.images[0]).toMatchObject({ width: 512, height: 512 });
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fal.subscribe with polling reports queue states and returns the result', async () => {
    const states: string[] = [];
    const result = await fal.subscribe(MODEL, {
      input: { prompt: 'a dog', image_size: 'landscape_16_9' },
      pollInterval: 50,
      logs: true,
      onQueueUpdate: (s: QueueStatus) => states.push(s.status),
    });
    expect((result.data as Output).images[0]).toMatchObject({ width: 1024, height: 576 });
    expect(states).toContain('COMPLETED');
    expect(states.some((s) => s === 'IN_QUEUE' || s === 'IN_PROGRESS')).toBe(true);
  });

  it("fal.subscribe with mode 'streaming' follows the SSE stream", async () => {
    const states: string[] = [];
    const result = await fal.subscribe(MODEL, {
      input: { prompt: 'a bird', image_size: 'square' },
      mode: 'streaming',
      onQueueUpdate: (s: QueueStatus) => states.push(s.status),
    });
    expect((result.data as Output).images).toHaveLength(1);
    expect(states.at(-1)).toBe('COMPLETED');
  });

  it('fal.queue.submit + status + result', async () => {
    const { request_id } = await fal.queue.submit(MODEL, { input: { prompt: 'a fish', image_size: 'square', num_images: 2 } });
    let status = await fal.queue.status(MODEL, { requestId: request_id, logs: true });
    for (let i = 0; i < 100 && status.status !== 'COMPLETED'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await fal.queue.status(MODEL, { requestId: request_id, logs: false });
    }
    expect(status.status).toBe('COMPLETED');
    const result = await fal.queue.result(MODEL, { requestId: request_id });
    expect((result.data as Output).images).toHaveLength(2);
    expect(result.requestId).toBe(request_id);
  });

  it('fal.queue.cancel removes a queued request', async () => {
    gw.sim.setFaults({ queueConcurrency: 1, latencyMs: 1000 });
    try {
      await fal.queue.submit(MODEL, { input: { prompt: 'blocker', image_size: 'square' } });
      const { request_id } = await fal.queue.submit(MODEL, { input: { prompt: 'to cancel', image_size: 'square' } });
      await fal.queue.cancel(MODEL, { requestId: request_id });
      let status = await fal.queue.status(MODEL, { requestId: request_id, logs: false });
      for (let i = 0; i < 50 && status.status !== 'COMPLETED'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = await fal.queue.status(MODEL, { requestId: request_id, logs: false });
      }
      expect(status.status).toBe('COMPLETED');
      expect((status as unknown as { error_type?: string }).error_type).toBe('client_cancelled');
    } finally {
      gw.sim.setFaults({ queueConcurrency: 2, latencyMs: 300 });
    }
  });

  it("invalid input surfaces as the client's ValidationError with field errors", async () => {
    gw.sim.reset();
    const err = await fal.run(MODEL, { input: { prompt: 'x', num_images: 9 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const fields = (err as ValidationError).fieldErrors;
    expect(fields).toContainEqual(expect.objectContaining({ loc: ['body', 'num_images'], type: 'less_than_equal' }));
    // (Background settlement of earlier jobs may still fetch results; no generation call was made.)
    expect(gw.sim.calls().filter((c) => c.op === 'run' || c.op === 'submit')).toHaveLength(0);
  });
});
