/**
 * One generation through the gateway's queue, as fal's clients do it (docs/design.md §1.1): submit,
 * follow the SSE status stream with logs (`…/status/stream?logs=1`), then fetch the result. The
 * stream is read with fetch (EventSource cannot send an Authorization header); if it ends before
 * COMPLETED the status is polled instead. Costs come from the gateway: the reservation from the
 * submit's `x-gateway-*` headers, the charge from the caller's own spend (`GET /v1/usage`) before
 * and after, because the result answer carries fal's billable units but not the gateway's amount.
 */
import { createParser } from 'eventsource-parser';
import type { Sd35Input, Sd35Output } from '../../src/domain/schema.js';
import { parseUsd } from '../shared/money.js';
import { call, ownUsage, type OwnUsage } from './gateway-api.js';
import { requestPath, SUBMIT_PATH } from './paths.js';

export interface QueueLog {
  message: string;
  timestamp: string;
  level?: string;
}

export interface StatusUpdate {
  status: 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';
  queue_position?: number;
  logs?: QueueLog[] | null;
  error?: string;
  error_type?: string;
}

export interface Submitted {
  requestId: string;
  gatewayRequestId: string | null;
  quotedMicro: number | null;
  megapixels: string | null;
  /** What is left of the tightest budget once this request is reserved. */
  budgetRemainingMicro: number | null;
}

/**
 * The charge, from the caller's spend before and after. `shared`: other requests of the same
 * credential were in flight, so the difference may include theirs. `pending`: the reservation was
 * still held when the page stopped waiting (the gateway settles a failed job a moment later).
 */
export interface Charge {
  micro: number;
  shared: boolean;
  pending: boolean;
}

/** A request fal ran (or refused) that ended without a result: the answer, and what it cost. */
export class JobFailed extends Error {
  constructor(
    readonly failure: Error,
    readonly charge: Charge | null,
  ) {
    super(failure.message);
    this.name = 'JobFailed';
  }
}

export interface Outcome {
  output: Sd35Output;
  /** The seed as fal wrote it: it may exceed 2^53, which JSON.parse would round. */
  seed: string;
  billableUnits: string | null;
  charge: Charge | null;
  timings: { queuedMs: number; runningMs: number; totalMs: number };
}

export interface RunHooks {
  onSubmitted(s: Submitted): void;
  onStatus(s: StatusUpdate): void;
}

const POLL_MS = 500;
const STREAM_IDLE_MS = 20_000;

function asStatus(v: unknown): StatusUpdate | null {
  if (v === null || typeof v !== 'object') return null;
  const s = (v as { status?: unknown }).status;
  return s === 'IN_QUEUE' || s === 'IN_PROGRESS' || s === 'COMPLETED' ? (v as StatusUpdate) : null;
}

/** Reads the status stream until COMPLETED; returns the last status seen (null if none). */
async function followStream(credential: string, id: string, seen: (s: StatusUpdate) => void, signal: AbortSignal): Promise<StatusUpdate | null> {
  const res = await call(credential, requestPath(id, '/status/stream?logs=1'), { headers: { accept: 'text/event-stream' }, signal });
  let last: StatusUpdate | null = null;
  const parser = createParser((event) => {
    if (event.type !== 'event') return;
    try {
      const s = asStatus(JSON.parse(event.data));
      if (s) {
        last = s;
        seen(s);
      }
    } catch {
      // A line that is not a status (a comment, a keep-alive) is not an update.
    }
  });
  const body = res.body;
  if (body === null) return null;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    // A stream silent for STREAM_IDLE_MS (a proxy holding it, a stalled connection) is given up
    // for polling, which also sees the job to its end.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), STREAM_IDLE_MS)));
    const next = await Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
    if (next === 'idle' || next.done) {
      if (next === 'idle') await reader.cancel().catch(() => undefined);
      break;
    }
    parser.feed(next.value);
    if ((last as StatusUpdate | null)?.status === 'COMPLETED') {
      await reader.cancel();
      break;
    }
  }
  return last;
}

async function pollUntilDone(credential: string, id: string, seen: (s: StatusUpdate) => void, signal: AbortSignal): Promise<StatusUpdate> {
  for (;;) {
    const res = await call(credential, requestPath(id, '/status?logs=1'), { signal });
    const s = asStatus(await res.json());
    if (s) {
      seen(s);
      if (s.status === 'COMPLETED') return s;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    signal.throwIfAborted();
  }
}

const usageOrNull = (credential: string, signal: AbortSignal): Promise<OwnUsage | null> => ownUsage(credential, signal).catch(() => null);

/** How long the page waits for the gateway to settle the request after its answer. */
const SETTLE_WAIT = { tries: 12, ms: 500 };

/**
 * The caller's spend once this request is settled: a successful result settles before it is
 * answered, a failed job a moment later (from its COMPLETED status), so the reservation is
 * awaited until the reserved total is back to what it was before the submit.
 */
async function chargeAfter(credential: string, before: OwnUsage | null, signal: AbortSignal): Promise<Charge | null> {
  const reservedBefore = before === null ? null : parseUsd(before.reservedUsd);
  const spentBefore = before === null ? null : parseUsd(before.spentUsd);
  if (reservedBefore === null || spentBefore === null) return null;
  for (let i = 0; ; i++) {
    const after = await usageOrNull(credential, signal);
    const spentAfter = after === null ? null : parseUsd(after.spentUsd);
    const reservedAfter = after === null ? null : parseUsd(after.reservedUsd);
    if (spentAfter === null || reservedAfter === null) return null;
    const pending = reservedAfter > reservedBefore;
    if (!pending || i + 1 >= SETTLE_WAIT.tries) return { micro: spentAfter - spentBefore, shared: reservedBefore !== 0 || reservedAfter !== 0, pending };
    await new Promise((r) => setTimeout(r, SETTLE_WAIT.ms));
  }
}

export async function generate(credential: string, input: Sd35Input, hooks: RunHooks, signal: AbortSignal): Promise<Outcome> {
  const before = await usageOrNull(credential, signal);
  const t0 = performance.now();
  const res = await call(credential, SUBMIT_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input), signal });
  const handle = (await res.json()) as { request_id?: unknown };
  if (typeof handle.request_id !== 'string') throw new Error('The gateway accepted the request but sent no request id');
  const id = handle.request_id;
  hooks.onSubmitted({
    requestId: id,
    gatewayRequestId: res.headers.get('x-gateway-request-id'),
    quotedMicro: parseUsd(res.headers.get('x-gateway-cost-usd')),
    megapixels: res.headers.get('x-gateway-megapixels'),
    budgetRemainingMicro: parseUsd(res.headers.get('x-gateway-budget-remaining-usd')),
  });

  let started: number | null = null;
  let completed: number | null = null;
  const seen = (s: StatusUpdate) => {
    const now = performance.now();
    if (s.status !== 'IN_QUEUE') started ??= now;
    if (s.status === 'COMPLETED') completed ??= now;
    hooks.onStatus(s);
  };
  seen(asStatus(handle) ?? { status: 'IN_QUEUE' });
  let last = await followStream(credential, id, seen, signal).catch((err: unknown) => {
    if (signal.aborted) throw err;
    return null;
  });
  if (last?.status !== 'COMPLETED') last = await pollUntilDone(credential, id, seen, signal);

  let result: Response;
  try {
    result = await call(credential, requestPath(id), { signal });
  } catch (err) {
    if (signal.aborted || !(err instanceof Error)) throw err;
    throw new JobFailed(err, await chargeAfter(credential, before, signal));
  }
  const text = await result.text();
  const output = JSON.parse(text) as Sd35Output;
  // The gateway streams fal's body unchanged; a result without an image list has nothing to show.
  if (!Array.isArray(output.images)) throw new JobFailed(new Error("fal's result carries no images"), await chargeAfter(credential, before, signal));
  const seed = /"seed"\s*:\s*(-?\d+)/.exec(text)?.[1] ?? String(output.seed);
  const end = performance.now();
  // The result's x-gateway-cost-usd is this job's settled charge, exact whatever else the
  // credential has in flight; the usage difference is only the fallback when it is absent.
  const settled = parseUsd(result.headers.get('x-gateway-cost-usd'));
  const charge = settled !== null ? { micro: settled, shared: false, pending: false } : await chargeAfter(credential, before, signal);
  const runningFrom = started ?? end;
  return {
    output,
    seed,
    billableUnits: result.headers.get('x-fal-billable-units'),
    charge,
    timings: { queuedMs: runningFrom - t0, runningMs: (completed ?? end) - runningFrom, totalMs: end - t0 },
  };
}

/** Asks the gateway to cancel a queued request (fal's `PUT …/cancel`). */
export async function cancel(credential: string, id: string): Promise<void> {
  await call(credential, requestPath(id, '/cancel'), { method: 'PUT' });
}
