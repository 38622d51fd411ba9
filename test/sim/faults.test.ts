import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { AUTH, call, json, runModel, startSim, statusOf, submit, waitCompleted, TINY } from './sim-client.js';

let sim: FalSim;
beforeEach(async () => {
  sim = await startSim({ faults: { latencyMs: 5 } });
});
afterEach(() => sim.close());

function fetchModel(url: string, prompt: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}${MODEL_PATH}`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, image_size: TINY, seed: 1 }),
    signal,
  });
}

describe('prompt-triggered faults on sync runs', () => {
  it('[sim:error] answers 500 runner_server_error with X-Fal-Error-Type and zero billable units', async () => {
    const r = await runModel(sim, { prompt: 'boom [sim:error]' });
    expect(r.status).toBe(500);
    expect(json(r)).toEqual({ detail: expect.any(String) as string, error_type: 'runner_server_error' });
    expect(r.headers.get('x-fal-error-type')).toBe('runner_server_error');
    expect(r.headers.get('x-fal-billable-units')).toBe('0');
    expect(r.headers.get('x-fal-request-id')).not.toBeNull();
    expect(sim.stats().billedUnits).toBe(0);
  });

  it('[sim:429] answers 429 concurrent_requests_limit with X-Fal-Needs-Retry: 1', async () => {
    const r = await runModel(sim, { prompt: '[sim:429]' });
    expect(r.status).toBe(429);
    expect(json(r)).toMatchObject({ error_type: 'concurrent_requests_limit' });
    expect(r.headers.get('x-fal-needs-retry')).toBe('1');
  });

  it('[sim:hang] accepts the request and never answers', async () => {
    await expect(fetchModel(sim.runUrl, '[sim:hang]', AbortSignal.timeout(150))).rejects.toThrow(/abort|timeout/i);
    expect(sim.stats().calls.run).toBe(1);
  });

  it('[sim:reset] sends status and headers, then breaks the body; the work is billed', async () => {
    const res = await fetchModel(sim.runUrl, '[sim:reset]');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fal-billable-units')).toBe('1');
    await expect(res.text()).rejects.toThrow();
    expect(sim.stats().billedUnits).toBe(1);
  });

  it('[sim:422] is a late content_policy_violation that is billed in full', async () => {
    const r = await runModel(sim, { prompt: '[sim:422]', image_size: 'square_hd', num_images: 2 });
    expect(r.status).toBe(422);
    expect((json(r).detail as { type: string; loc: string[] }[])[0]).toMatchObject({ loc: ['body'], type: 'content_policy_violation' });
    expect(r.headers.get('x-fal-billable-units')).toBe('4');
    expect(sim.stats().billedByRequest[r.headers.get('x-fal-request-id') ?? '']).toBe(4);
  });

  it('[sim:slow] multiplies the latency by ten', async () => {
    sim.setFaults({ latencyMs: 20 });
    const r = await runModel(sim, { prompt: '[sim:slow]', image_size: { width: 64, height: 64 } });
    expect(json(r).timings).toEqual({ inference: 0.2 });
  });
});

describe('prompt-triggered faults on queue jobs', () => {
  it('[sim:error] completes the job with error and error_type; the result is 500 and unbilled', async () => {
    const job = await submit(sim, { prompt: '[sim:error]', image_size: TINY });
    const done = await waitCompleted(job);
    expect(done).toMatchObject({ status: 'COMPLETED', error: expect.any(String) as string, error_type: 'runner_server_error' });
    const r = await call(job.response_url);
    expect(r.status).toBe(500);
    expect(json(r)).toMatchObject({ error_type: 'runner_server_error' });
    expect(r.headers.get('x-fal-error-type')).toBe('runner_server_error');
    expect(sim.stats().billedUnits).toBe(0);
  });

  it('[sim:422] makes the result a billed 422', async () => {
    const job = await submit(sim, { prompt: '[sim:422]', image_size: 'square_hd' });
    expect((await waitCompleted(job)).error_type).toBe('content_policy_violation');
    const r = await call(job.response_url);
    expect(r.status).toBe(422);
    expect(r.headers.get('x-fal-billable-units')).toBe('2');
    expect(sim.stats().billedByRequest[job.request_id]).toBe(2);
  });

  it('[sim:hang] on submit still creates the job, as if only the answer was lost', async () => {
    await expect(
      fetch(`${sim.queueUrl}${MODEL_PATH}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"prompt":"[sim:hang]","image_size":{"width":64,"height":64}}', signal: AbortSignal.timeout(150) }),
    ).rejects.toThrow();
    const id = sim.calls().find((c) => c.op === 'submit')?.requestId ?? '';
    const base = `${sim.queueUrl}${MODEL_PATH}/requests/${id}`;
    await waitCompleted({ request_id: id, status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel`, queue_position: 0 });
  });
});

describe('random faults and concurrency limits', () => {
  it('applies errorRate and rate429 to sync runs and errorRate to queue jobs', async () => {
    sim.setFaults({ errorRate: 1 });
    expect((await runModel(sim, { prompt: 'x' })).status).toBe(500);
    const job = await submit(sim, { prompt: 'x', image_size: TINY });
    expect((await waitCompleted(job)).error_type).toBe('runner_server_error');
    sim.setFaults({ errorRate: 0, rate429: 1 });
    expect((await runModel(sim, { prompt: 'x' })).status).toBe(429);
    const queued = await submit(sim, { prompt: 'x', image_size: TINY }); // the queue absorbs 429s
    expect((await statusOf(queued)).code).toBeLessThan(300);
  });

  it('answers 429 when more than syncConcurrency sync calls are in flight', async () => {
    sim.setFaults({ syncConcurrency: 1, latencyMs: 800 });
    const small = { prompt: 'x', image_size: { width: 64, height: 64 } };
    const [a, b] = await Promise.all([runModel(sim, small), runModel(sim, small)]);
    expect([a?.status, b?.status].sort()).toEqual([200, 429]);
    expect((await runModel(sim, small)).status).toBe(200);
  });

  it('uses the injected random source, so fault sequences are reproducible', async () => {
    const seeded = await startSim({ seedRandom: () => 0.25, faults: { latencyMs: 1, errorRate: 0.3 } });
    try {
      expect((await runModel(seeded, { prompt: 'x' })).status).toBe(500);
      seeded.setFaults({ errorRate: 0.2 });
      const ok = await runModel(seeded, { prompt: 'x', sync_mode: true, image_size: TINY });
      expect(ok.text).toContain(`"seed":${(2n ** 61n) | (2n ** 30n)},`);
    } finally {
      await seeded.close();
    }
  });

  it('close() ends hanging sockets instead of waiting for them', async () => {
    const other = await startSim();
    const pending = fetchModel(other.runUrl, '[sim:hang]');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await other.close();
    await expect(pending).rejects.toThrow();
  });
});
