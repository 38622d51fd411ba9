/**
 * The soak's mixed workload: client "journeys" started at a steady rate, each a short sequence of
 * calls a real client makes. Sync runs (some with an Idempotency-Key, replayed once), queue jobs
 * followed by polling (half with `?logs=1`) or by the SSE status stream and then a result fetch,
 * some submits replayed under an Idempotency-Key, fault prompts the simulated fal acts on
 * (`[sim:429]`, `[sim:error]`), and calls with unknown keys (an auth-failure scan). Every
 * journey uses one of several gateway keys.
 *
 * An error is a transport failure (reset, timeout) or an answer the journey did not expect: any
 * non-2xx on a fault-free call, or a 500 `internal_error` anywhere. Fault answers are counted by
 * status so the report shows what the gateway answered.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { MODEL_PATH, requestPath } from './targets.js';

export type Journey = 'run' | 'run-idem' | 'poll' | 'stream' | 'fault-429' | 'fault-error' | 'bad-key';

/** Relative weights of the journeys. */
export const JOURNEY_WEIGHTS: Readonly<Record<Journey, number>> = {
  run: 20,
  'run-idem': 10,
  poll: 35,
  stream: 15,
  'fault-429': 5,
  'fault-error': 5,
  'bad-key': 10,
};

export interface LoadCounts {
  requests: number;
  journeys: Record<string, number>;
  /** `<journey> <status>` → count, for answers that are expected (fault journeys) or errors. */
  statuses: Record<string, number>;
  errors: number;
  /** The first few error descriptions, for the report. */
  errorSamples: string[];
  /** Journeys skipped because `maxInFlight` were already running (the gateway fell behind). */
  skipped: number;
}

export interface LoadOptions {
  origin: string;
  keys: readonly string[];
  /** Journeys started per second. */
  rate: number;
  /** Stop starting journeys at this performance.now() (ms); running ones finish. */
  deadline: number;
  maxInFlight: number;
  pollMs: number;
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const body = (prompt: string) => JSON.stringify({ prompt, image_size: { width: 64, height: 64 }, num_images: 1 });

function pick(random: number): Journey {
  const total = Object.values(JOURNEY_WEIGHTS).reduce((a, b) => a + b, 0);
  let r = random * total;
  for (const [j, w] of Object.entries(JOURNEY_WEIGHTS) as [Journey, number][]) {
    r -= w;
    if (r < 0) return j;
  }
  return 'run';
}

export class SoakLoad {
  readonly counts: LoadCounts = { requests: 0, journeys: {}, statuses: {}, errors: 0, errorSamples: [], skipped: 0 };
  private readonly pool: Pool;
  private inFlight = 0;

  constructor(private readonly opts: LoadOptions) {
    this.pool = new Pool(opts.origin, { connections: 256, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
  }

  /** Starts journeys at `rate`/s until the deadline, then waits for the running ones. */
  async run(): Promise<void> {
    const running = new Set<Promise<void>>();
    const gapMs = 1000 / this.opts.rate;
    let next = performance.now();
    while (performance.now() < this.opts.deadline) {
      if (this.inFlight >= this.opts.maxInFlight) this.counts.skipped++;
      else {
        const p = this.journey(pick(Math.random())).finally(() => running.delete(p));
        running.add(p);
      }
      next += gapMs;
      await sleep(Math.max(0, next - performance.now()));
    }
    await Promise.all(running);
    await this.pool.close();
  }

  private async journey(kind: Journey): Promise<void> {
    this.inFlight++;
    this.counts.journeys[kind] = (this.counts.journeys[kind] ?? 0) + 1;
    const key = this.opts.keys[Math.floor(Math.random() * this.opts.keys.length)] ?? '';
    try {
      await this.play(kind, `Key ${key}`);
    } catch (err) {
      this.error(kind, `transport: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.inFlight--;
    }
  }

  private async play(kind: Journey, auth: string): Promise<void> {
    switch (kind) {
      case 'run':
        return this.expect2xx(kind, await this.send('POST', MODEL_PATH, auth, body('soak run')));
      case 'run-idem': {
        const idem = { 'idempotency-key': randomUUID() };
        this.expect2xx(kind, await this.send('POST', MODEL_PATH, auth, body('soak idempotent run'), idem));
        const again = await this.send('POST', MODEL_PATH, auth, body('soak idempotent run'), idem);
        this.expect2xx(kind, again);
        if (again.status === 200 && again.headers['idempotent-replayed'] !== 'true') this.error(kind, 'repeat was not replayed');
        return;
      }
      case 'poll':
      case 'stream':
        return this.queueJob(kind, auth, 'soak job', Math.random() < 0.2);
      case 'fault-429':
        return this.expectFault(kind, await this.send('POST', MODEL_PATH, auth, body('soak [sim:429]')));
      case 'fault-error':
        return this.queueJob(kind, auth, 'soak [sim:error]', false);
      case 'bad-key':
        return this.expectFault(kind, await this.send('GET', `/queue${requestPath(randomUUID(), '/status')}`, `Key ${randomBytes(16).toString('hex')}`));
    }
  }

  /** Submit (replayed once under an Idempotency-Key when `idem`), follow to COMPLETED, fetch the result. */
  private async queueJob(kind: Journey, auth: string, prompt: string, idem: boolean): Promise<void> {
    const headers = idem ? { 'idempotency-key': randomUUID() } : undefined;
    const sub = await this.send('POST', `/queue${MODEL_PATH}`, auth, body(prompt), headers);
    const id = sub.json.request_id;
    if (sub.status !== 200 || typeof id !== 'string') return this.error(kind, `submit answered ${sub.status}`);
    if (idem) {
      const again = await this.send('POST', `/queue${MODEL_PATH}`, auth, body(prompt), headers);
      if (again.json.request_id !== id) this.error(kind, `idempotent submit answered ${again.status} with another request id`);
    }
    if (kind === 'stream') {
      const s = await this.send('GET', `/queue${requestPath(id, '/status/stream')}`, auth);
      this.expect2xx(kind, s);
    } else {
      const logs = Math.random() < 0.5 ? '?logs=1' : '';
      for (let i = 0; ; i++) {
        await sleep(this.opts.pollMs);
        const s = await this.send('GET', `/queue${requestPath(id, '/status')}${logs}`, auth);
        if (s.status < 200 || s.status >= 300) return this.error(kind, `status answered ${s.status}`);
        if (s.json.status === 'COMPLETED') break;
        if (i > 240) return this.error(kind, 'job never completed');
      }
    }
    const r = await this.send('GET', `/queue${requestPath(id)}`, auth);
    if (kind === 'fault-error') this.expectFault(kind, r);
    else this.expect2xx(kind, r);
  }

  private async send(method: 'GET' | 'POST', path: string, authorization: string, payload?: string, extra?: Record<string, string>): Promise<Answer> {
    this.counts.requests++;
    const headers: Record<string, string> = { authorization, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...extra };
    const res = await this.pool.request({ method, path, headers, body: payload ?? null });
    const text = await res.body.text();
    let json: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
    } catch {
      // SSE streams and non-JSON answers: the status is what counts
    }
    if (res.statusCode === 500 && json.error_type === 'internal_error') this.counts.statuses['internal_error'] = (this.counts.statuses['internal_error'] ?? 0) + 1;
    return { status: res.statusCode, json, headers: res.headers };
  }

  private expect2xx(kind: Journey, a: Answer): void {
    if (a.status < 200 || a.status >= 300) this.error(kind, `answered ${a.status} ${JSON.stringify(a.json.error_type ?? '')}`);
  }

  /** A fault journey: any complete answer but an internal error is the contract; count it by status. */
  private expectFault(kind: Journey, a: Answer): void {
    const label = `${kind} ${a.status}`;
    this.counts.statuses[label] = (this.counts.statuses[label] ?? 0) + 1;
    if (a.json.error_type === 'internal_error') this.error(kind, 'internal_error');
  }

  private error(kind: Journey, what: string): void {
    this.counts.errors++;
    if (this.counts.errorSamples.length < 10) this.counts.errorSamples.push(`${kind}: ${what}`);
  }
}
