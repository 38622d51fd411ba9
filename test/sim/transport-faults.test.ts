/** The transport-fault knobs the gateway's failure matrix needs: where the connection breaks, and what fal did. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { AUTH, call, startSim, submit, waitCompleted, TINY, type Submitted } from './sim-client.js';

let sim: FalSim;
beforeEach(async () => {
  sim = await startSim({ faults: { latencyMs: 5 } });
});
afterEach(() => sim.close());

const postModel = (base: string, prompt: string, signal?: AbortSignal) =>
  fetch(`${base}${MODEL_PATH}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ prompt, image_size: TINY }), signal });
const handleOf = (id: string): Submitted => {
  const base = `${sim.queueUrl}${MODEL_PATH}/requests/${id}`;
  return { request_id: id, status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel`, queue_position: 0 };
};
const lastSubmitId = () => sim.calls().filter((c) => c.op === 'submit').at(-1)?.requestId ?? '';

describe('transport faults on sync runs', () => {
  it('[sim:reset-before-headers] bills the generation and breaks the socket before any status line', async () => {
    await expect(postModel(sim.runUrl, '[sim:reset-before-headers]')).rejects.toThrow();
    expect(sim.stats().billedUnits).toBe(1);
  });

  it('[sim:hang-before-body] never answers and bills nothing', async () => {
    await expect(postModel(sim.runUrl, '[sim:hang-before-body]', AbortSignal.timeout(200))).rejects.toThrow();
    expect(sim.stats()).toMatchObject({ billedUnits: 0, calls: { run: 1 } });
  });

  it('hangBeforeBodyRate holds run and submit calls unread: no job, no bill', async () => {
    sim.setFaults({ hangBeforeBodyRate: 1 });
    await expect(postModel(sim.runUrl, 'x', AbortSignal.timeout(200))).rejects.toThrow();
    await expect(postModel(sim.queueUrl, 'x', AbortSignal.timeout(200))).rejects.toThrow();
    expect(sim.stats()).toMatchObject({ billedUnits: 0, calls: { run: 1, submit: 1 } });
    expect(lastSubmitId()).toBe('');
  });
});

describe('transport and body faults on queue submits', () => {
  it('[sim:hang-before-body] creates no job', async () => {
    await expect(postModel(sim.queueUrl, '[sim:hang-before-body]', AbortSignal.timeout(200))).rejects.toThrow();
    expect(lastSubmitId()).not.toBe('');
    expect((await call(handleOf(lastSubmitId()).status_url)).status).toBe(404);
  });

  it('[sim:reset-before-headers] creates the job and answers nothing', async () => {
    await expect(postModel(sim.queueUrl, '[sim:reset-before-headers]')).rejects.toThrow();
    await waitCompleted(handleOf(lastSubmitId()));
  });

  it('[sim:reset] sends 200 headers with x-fal-request-id, then breaks the body', async () => {
    const res = await postModel(sim.queueUrl, '[sim:reset]');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fal-request-id')).toBe(lastSubmitId());
    await expect(res.text()).rejects.toThrow();
  });

  it('[sim:garbage] answers a 200 that is not JSON, with x-fal-request-id, and the job runs', async () => {
    const res = await postModel(sim.queueUrl, '[sim:garbage]');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text) as unknown).toThrow();
    const id = res.headers.get('x-fal-request-id') ?? '';
    expect(id).toBe(lastSubmitId());
    await waitCompleted(handleOf(id));
  });

  it('[sim:no-request-id] answers 200 JSON without request_id; the header carries the id', async () => {
    const res = await postModel(sim.queueUrl, '[sim:no-request-id]');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.request_id).toBeUndefined();
    expect(body.status).toBe('IN_QUEUE');
    await waitCompleted(handleOf(res.headers.get('x-fal-request-id') ?? ''));
  });
});

describe('result-fetch faults', () => {
  it('[sim:result-reset] cuts every result fetch mid-body; [sim:result-reset-before-headers] before headers', async () => {
    const cut = await submit(sim, { prompt: '[sim:result-reset]', image_size: TINY });
    await waitCompleted(cut);
    const res = await fetch(cut.response_url, { headers: AUTH });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const early = await submit(sim, { prompt: '[sim:result-reset-before-headers]', image_size: TINY });
    await waitCompleted(early);
    await expect(fetch(early.response_url, { headers: AUTH })).rejects.toThrow();
  });

  it('[sim:result-hang] never answers a result fetch', async () => {
    const job = await submit(sim, { prompt: '[sim:result-hang]', image_size: TINY });
    await waitCompleted(job);
    await expect(fetch(job.response_url, { headers: AUTH, signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });
});
