/**
 * A fal call aborted through UpstreamRequest.signal (graceful shutdown) after the request may have
 * left counts as "may have been delivered": a POST answers 500 upstream_outcome_unknown and is
 * charged at its quote, never released as not sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import { GatewayError } from '../../src/errors.js';
import { callFal, UpstreamCallError } from '../../src/pipeline/upstream-call.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { createFalUpstream, type FalUpstream } from '../../src/upstream/fal-upstream.js';

let sim: FalSim;
let upstream: FalUpstream;
beforeAll(async () => {
  sim = await startFalSim({ falKey: 'k', faults: { latencyMs: 5 } });
  upstream = createFalUpstream({ runUrl: sim.runUrl, queueUrl: sim.queueUrl, falKey: 'k', userAgent: 'test' });
});
afterAll(async () => {
  await upstream.close();
  await sim.close();
});

const log = { warn: () => undefined, error: () => undefined } as unknown as Parameters<typeof callFal>[1]['log'];

describe('an aborted fal call', () => {
  it.each(['run', 'queue'] as const)('on %s: upstream_outcome_unknown, maybe delivered', async (origin) => {
    const ctx = { upstream, shutdownSignal: new AbortController().signal } as unknown as PipelineContext;
    const abort = new AbortController();
    const call = callFal(ctx, { log }, {
      origin,
      method: 'POST',
      path: MODEL_PATH,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ prompt: 'held [sim:hang]', image_size: 'square' })),
      timeoutMs: 30_000,
      signal: abort.signal,
    });
    for (let i = 0; i < 100 && sim.stats().calls[origin === 'run' ? 'run' : 'submit'] === 0; i++) await new Promise((r) => setTimeout(r, 10));
    abort.abort(new Error('shutting down'));
    const err: unknown = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamCallError);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'upstream_outcome_unknown', status: 500, maybeDelivered: true, kind: 'aborted' });

  });

  it('after the grace is over a call that had not left is refused as not sent (503), never charged', async () => {
    const shutdown = new AbortController();
    shutdown.abort(new Error('grace over'));
    const ctx = { upstream, shutdownSignal: shutdown.signal } as unknown as PipelineContext;
    const before = sim.stats().calls.run;
    const err: unknown = await callFal(ctx, { log }, {
      origin: 'run',
      method: 'POST',
      path: MODEL_PATH,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ prompt: 'late', image_size: 'square' })),
      timeoutMs: 30_000,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'service_unavailable', status: 503, maybeDelivered: false });
    expect(sim.stats().calls.run).toBe(before);
  });

  it('the shutdown signal stops waiting for headers, not a body already flowing', async () => {
    const shutdown = new AbortController();
    const ctx = { upstream, shutdownSignal: shutdown.signal } as unknown as PipelineContext;
    const res = await callFal(ctx, { log }, {
      origin: 'run',
      method: 'POST',
      path: MODEL_PATH,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ prompt: 'flowing', image_size: 'square', sync_mode: true })),
      timeoutMs: 30_000,
    });
    shutdown.abort(new Error('grace over'));
    const text = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(text)).toHaveProperty('images');
  });
});
