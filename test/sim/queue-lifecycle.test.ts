import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_PATH, REQUESTS_PREFIX } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { AUTH, call, json, post, startSim, statusOf, submit, waitCompleted, TINY } from './sim-client.js';

let sim: FalSim;
beforeEach(async () => {
  sim = await startSim({ faults: { latencyMs: 5 } });
});
afterEach(() => sim.close());

function parseEvents(text: string): Record<string, unknown>[] {
  return text
    .split('\n\n')
    .filter((chunk) => chunk.startsWith('data: '))
    .map((chunk) => JSON.parse(chunk.slice('data: '.length)) as Record<string, unknown>);
}

describe('queue lifecycle on the queue listener', () => {
  it('answers a submit with IN_QUEUE, the request URLs on the queue origin and x-fal-request-id', async () => {
    const r = await post(`${sim.queueUrl}${MODEL_PATH}`, { prompt: 'x', image_size: TINY });
    expect(r.status).toBe(200);
    const body = json(r);
    const id = String(body.request_id);
    const base = `${sim.queueUrl}${REQUESTS_PREFIX}/${id}`;
    expect(body).toEqual({ status: 'IN_QUEUE', request_id: id, response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel`, queue_position: 0 });
    expect(r.headers.get('x-fal-request-id')).toBe(id);
  });

  it('reports 202 with queue_position while queued, 202 with logs while running, 200 when completed', async () => {
    // Generous latency: the assertions below must all land inside the first job's run, even on a
    // loaded 2-core CI machine.
    sim.setFaults({ queueConcurrency: 1, latencyMs: 1500 });
    const first = await submit(sim, { prompt: 'x', image_size: TINY });
    const second = await submit(sim, { prompt: 'x', image_size: TINY });
    const third = await submit(sim, { prompt: 'x', image_size: TINY });
    expect([first.queue_position, second.queue_position, third.queue_position]).toEqual([0, 0, 1]);

    const queued = await statusOf(third);
    expect(queued.code).toBe(202);
    expect(queued.body).toMatchObject({ status: 'IN_QUEUE', queue_position: 1 });
    const running = await statusOf(first);
    expect(running.code).toBe(202);
    expect(running.body.status).toBe('IN_PROGRESS');
    expect(running.body).toHaveProperty('logs', null);
    const withLogs = await statusOf(first, '?logs=1');
    expect(withLogs.body.logs).toEqual([{ message: expect.any(String) as string, level: 'INFO', source: 'USER', timestamp: expect.any(String) as string }]);

    await waitCompleted(first);
    const done = await statusOf(first, '?logs=true');
    expect(done.code).toBe(200);
    expect(done.body).toMatchObject({ status: 'COMPLETED', metrics: { inference_time: 1.5 } });
    expect((done.body.logs as unknown[]).length).toBe(2);
    expect((await statusOf(first, '?logs=false')).body).toHaveProperty('logs', null);
  });

  it('streams status as SSE, first event at once, and closes after COMPLETED', async () => {
    sim.setFaults({ queueConcurrency: 1, latencyMs: 600 });
    await submit(sim, { prompt: 'x', image_size: TINY });
    await submit(sim, { prompt: 'x', image_size: TINY });
    const third = await submit(sim, { prompt: 'x', image_size: TINY });
    const res = await fetch(`${third.status_url}/stream?logs=0`, { headers: { ...AUTH, accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (reader === undefined) throw new Error('no body');
    const decoder = new TextDecoder();
    const firstChunk = decoder.decode((await reader.read()).value);
    // Flushed immediately: the first event arrives while the job still waits in line.
    expect(parseEvents(firstChunk)[0]).toMatchObject({ status: 'IN_QUEUE', queue_position: 1 });
    let text = firstChunk;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
    const events = parseEvents(text);
    expect(events.map((e) => [e.status, e.queue_position])).toEqual([
      ['IN_QUEUE', 1],
      ['IN_QUEUE', 0],
      ['IN_PROGRESS', undefined],
      ['COMPLETED', undefined],
    ]);
    expect(events[2]).toHaveProperty('logs', null);
    expect(events[3]).toMatchObject({ request_id: third.request_id, metrics: { inference_time: 0.6 } });
  });

  it('serves the result at both /requests/{id} and /requests/{id}/response', async () => {
    const job = await submit(sim, `{"prompt":"x","image_size":"square_hd","seed":196619188014358660}`);
    await waitCompleted(job);
    for (const url of [job.response_url, `${job.response_url}/response`]) {
      const r = await call(url);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-fal-request-id')).toBe(job.request_id);
      expect(r.headers.get('x-fal-billable-units')).toBe('2');
      expect(r.text).toContain('"seed":196619188014358660,');
      expect(json(r).images).toHaveLength(1);
    }
  });

  it('answers 400 "still in progress" for an early result and 404 NOT_FOUND for unknown ids', async () => {
    sim.setFaults({ latencyMs: 1000 });
    const job = await submit(sim, { prompt: 'x', image_size: TINY });
    const early = await call(job.response_url);
    expect(early.status).toBe(400);
    expect(json(early)).toEqual({ detail: 'Request is still in progress' });
    const unknown = `${sim.queueUrl}${REQUESTS_PREFIX}/00000000-0000-0000-0000-000000000000`;
    for (const url of [unknown, `${unknown}/response`, `${unknown}/status`, `${unknown}/status/stream`]) {
      const r = await call(url);
      expect(r.status).toBe(404);
      expect(json(r)).toEqual({ status: 'NOT_FOUND' });
    }
  });

  it('requires the fal key on every queue call', async () => {
    const job = await submit(sim, { prompt: 'x', image_size: TINY });
    expect((await post(`${sim.queueUrl}${MODEL_PATH}`, { prompt: 'x' }, {})).status).toBe(401);
    expect((await call(job.status_url, 'GET', {})).status).toBe(401);
    expect((await call(job.response_url, 'GET', { authorization: 'Key nope' })).status).toBe(401);
    expect((await call(job.cancel_url, 'PUT', {})).status).toBe(401);
  });

  it('runs at most queueConcurrency jobs at once, in FIFO order', async () => {
    sim.setFaults({ queueConcurrency: 2, latencyMs: 800 });
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await submit(sim, { prompt: 'x', image_size: TINY }));
    const states = await Promise.all(jobs.map(async (j) => (await statusOf(j)).body.status));
    expect(states).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_QUEUE', 'IN_QUEUE']);
    await Promise.all(jobs.map(waitCompleted));
  });
});
