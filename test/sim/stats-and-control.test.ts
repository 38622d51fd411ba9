import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FalSim, SimStats } from '../../src/sim/fal-sim.js';
import { call, json, post, runModel, startSim, submit, waitCompleted, TINY } from './sim-client.js';

let sim: FalSim;
beforeEach(async () => {
  sim = await startSim({ faults: { latencyMs: 5 } });
});
afterEach(() => sim.close());

describe('stats and call log', () => {
  it('bills a queue job once however many times its result is fetched', async () => {
    const job = await submit(sim, { prompt: 'x', image_size: { width: 1024, height: 1024 }, num_images: 2, seed: 3 });
    await waitCompleted(job);
    for (let i = 0; i < 3; i++) expect((await call(job.response_url)).headers.get('x-fal-billable-units')).toBe('4');
    const stats = sim.stats();
    expect(stats.billedUnits).toBe(4);
    expect(stats.billedByRequest).toEqual({ [job.request_id]: 4 });
    expect(stats.calls).toMatchObject({ submit: 1, result: 3, run: 0 });
  });

  it('bills each sync run once and logs what reached fal, headers included', async () => {
    await runModel(sim, { prompt: 'x', image_size: TINY, seed: 3 }, { authorization: 'Key test-key-id:test-key-secret', 'x-fal-queue-priority': 'low' });
    await runModel(sim, { prompt: 'x', num_images: 9 }); // 422: logged, not billed
    const stats = sim.stats();
    expect(stats.billedUnits).toBe(1);
    expect(stats.calls.run).toBe(2);
    const [first, second] = sim.calls();
    expect(first).toMatchObject({ op: 'run', method: 'POST', path: '/fal-ai/stable-diffusion-v35-medium', requestId: expect.any(String) as string });
    expect(first?.headers['x-fal-queue-priority']).toBe('low');
    expect(second?.requestId).not.toBe(first?.requestId);
  });

  it('returns snapshots that later calls do not mutate', async () => {
    const before = sim.stats();
    await runModel(sim, { prompt: 'x', image_size: TINY, seed: 3 });
    expect(before.calls.run).toBe(0);
    expect(before.billedUnits).toBe(0);
  });

  it('reset() clears stats, calls and jobs and restores the starting faults', async () => {
    const job = await submit(sim, { prompt: 'x', image_size: TINY, seed: 3 });
    sim.setFaults({ errorRate: 1 });
    sim.reset();
    expect(sim.stats().calls.submit).toBe(0);
    expect(sim.calls()).toEqual([]);
    expect((await call(job.status_url)).status).toBe(404);
    expect((await runModel(sim, { prompt: 'x', image_size: TINY, seed: 3 })).status).toBe(200);
  });

  it('setFaults() rejects unknown keys and out-of-range values', () => {
    expect(() => sim.setFaults({ errorRate: 2 })).toThrow(RangeError);
    expect(() => sim.setFaults({ queueConcurrency: 0 })).toThrow(RangeError);
    expect(() => sim.setFaults({ latency: 5 } as unknown as { latencyMs: number })).toThrow(/unknown fault/);
  });
});

describe('control endpoints on the run listener', () => {
  it('reads stats and calls, sets faults and resets over HTTP without auth', async () => {
    const set = await post(`${sim.runUrl}/_sim/faults`, { errorRate: 1, syncConcurrency: null }, {});
    expect(set.status).toBe(200);
    expect(json(set)).toMatchObject({ errorRate: 1, syncConcurrency: null });
    expect((await runModel(sim, { prompt: 'x' })).status).toBe(500);

    const stats = JSON.parse((await call(`${sim.runUrl}/_sim/stats`, 'GET', {})).text) as SimStats;
    expect(stats.calls.run).toBe(1);
    const calls = JSON.parse((await call(`${sim.runUrl}/_sim/calls`, 'GET', {})).text) as unknown[];
    expect(calls).toHaveLength(1); // control calls are not logged

    expect((await post(`${sim.runUrl}/_sim/reset`, {}, {})).status).toBe(200);
    expect(sim.stats().calls.run).toBe(0);
    expect((await runModel(sim, { prompt: 'x', image_size: TINY, seed: 3 })).status).toBe(200);
  });

  it('answers 400 for an invalid fault patch', async () => {
    const r = await post(`${sim.runUrl}/_sim/faults`, { hangRate: -1 }, {});
    expect(r.status).toBe(400);
    expect(json(r).detail).toMatch(/hangRate/);
  });
});

describe('webhooks', () => {
  it('posts the output, raw seed intact, to a loopback fal_webhook on completion', async () => {
    const received: string[] = [];
    const hook = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const ok = await submit(sim, `{"prompt":"x","image_size":{"width":64,"height":64},"seed":196619188014358660}`, `?fal_webhook=${encodeURIComponent(url)}`);
      const failed = await submit(sim, { prompt: '[sim:error]', image_size: TINY }, `?fal_webhook=${encodeURIComponent(url)}`);
      await Promise.all([waitCompleted(ok), waitCompleted(failed)]);
      while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      const bodies = received.map((b) => JSON.parse(b) as Record<string, unknown>);
      const okBody = bodies.find((b) => b.request_id === ok.request_id);
      expect(okBody).toMatchObject({ gateway_request_id: ok.request_id, status: 'OK' });
      expect(received.find((b) => b.includes(ok.request_id))).toContain('"seed":196619188014358660,');
      expect(bodies.find((b) => b.request_id === failed.request_id)).toMatchObject({
        status: 'ERROR',
        error: 'Invalid status code: 500',
        payload: { error_type: 'runner_server_error' },
      });
    } finally {
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});
