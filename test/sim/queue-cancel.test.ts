import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUESTS_PREFIX } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { AUTH, call, json, startSim, statusOf, submit, waitCompleted, TINY } from './sim-client.js';

let sim: FalSim;
beforeEach(async () => {
  // Long enough that the running job is still running when the assertions about the queued one run.
  sim = await startSim({ faults: { queueConcurrency: 1, latencyMs: 1000 } });
});
afterEach(() => sim.close());

const cancel = (url: string): ReturnType<typeof call> => call(url, 'PUT');

describe('queue cancel', () => {
  it('removes a queued job at once: COMPLETED with client_cancelled, result 499, never billed', async () => {
    const running = await submit(sim, { prompt: 'x', image_size: TINY });
    const queued = await submit(sim, { prompt: 'x', image_size: TINY });
    const r = await cancel(queued.cancel_url);
    expect(r.status).toBe(202);
    expect(json(r)).toEqual({ status: 'CANCELLATION_REQUESTED' });

    const status = await statusOf(queued);
    expect(status.code).toBe(200);
    expect(status.body).toMatchObject({ status: 'COMPLETED', error: 'Request was cancelled', error_type: 'client_cancelled' });
    expect(status.body).toHaveProperty('logs');
    const result = await call(queued.response_url);
    expect(result.status).toBe(499);
    expect(json(result)).toEqual({ detail: 'Request was cancelled', error_type: 'client_cancelled' });

    await waitCompleted(running);
    expect(Object.keys(sim.stats().billedByRequest)).toEqual([running.request_id]);
  });

  it('lets the next job move up when a queued one is cancelled', async () => {
    await submit(sim, { prompt: 'x', image_size: TINY });
    const second = await submit(sim, { prompt: 'x', image_size: TINY });
    const third = await submit(sim, { prompt: 'x', image_size: TINY });
    expect((await statusOf(third)).body.queue_position).toBe(1);
    await cancel(second.cancel_url);
    expect((await statusOf(third)).body.queue_position).toBe(0);
  });

  it('accepts a cancel for a running job but lets it complete and bill, as fal "may still complete"', async () => {
    const job = await submit(sim, { prompt: 'x', image_size: TINY });
    const r = await cancel(job.cancel_url);
    expect(r.status).toBe(202);
    expect(json(r)).toEqual({ status: 'CANCELLATION_REQUESTED' });
    const done = await waitCompleted(job);
    expect(done).not.toHaveProperty('error');
    expect((await call(job.response_url)).status).toBe(200);
    expect(sim.stats().billedByRequest[job.request_id]).toBe(1);
  });

  it('answers 400 ALREADY_COMPLETED for a finished job and 404 NOT_FOUND for an unknown one', async () => {
    sim.setFaults({ latencyMs: 1 });
    const job = await submit(sim, { prompt: 'x', image_size: TINY });
    await waitCompleted(job);
    const done = await cancel(job.cancel_url);
    expect(done.status).toBe(400);
    expect(json(done)).toEqual({ status: 'ALREADY_COMPLETED' });
    const unknown = await cancel(`${sim.queueUrl}${REQUESTS_PREFIX}/not-a-job/cancel`);
    expect(unknown.status).toBe(404);
    expect(json(unknown)).toEqual({ status: 'NOT_FOUND' });
  });

  it('accepts a cancel sent with a body and any content-type', async () => {
    await submit(sim, { prompt: 'x', image_size: TINY });
    const queued = await submit(sim, { prompt: 'x', image_size: TINY });
    const res = await fetch(queued.cancel_url, { method: 'PUT', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'please stop' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'CANCELLATION_REQUESTED' });
  });
});
