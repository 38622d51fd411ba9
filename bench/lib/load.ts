/**
 * Load generators, all in the harness process:
 * - `cannon`: autocannon as a library (closed loop, or its `overallRate`);
 * - `sequential`: one keep-alive connection, one request at a time, timed with hrtime (S1/S2);
 * - `paced`: a wrk2-style open loop: requests are scheduled at a fixed rate and each latency is
 *   measured from its *scheduled* time, so queueing behind slow answers is counted (no coordinated
 *   omission). autocannon's `overallRate` instead lets every connection send its per-second quota
 *   back to back at the top of each second, which measures burst latency.
 */
import autocannon from 'autocannon';
import { Client, Pool } from 'undici';
import type { HttpSpec } from './targets.js';

export interface CannonResult {
  requests: number;
  seconds: number;
  rps: number;
  bytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/**
 * autocannon against one origin. With several specs, connection i sends specs[i % n] every time
 * (e.g. each connection polls its own queue request).
 */
export async function cannon(specs: HttpSpec | HttpSpec[], opts: { connections: number; seconds: number; overallRate?: number; timeoutS?: number }): Promise<CannonResult> {
  const list = Array.isArray(specs) ? specs : [specs];
  const spec = list[0];
  if (spec === undefined) throw new Error('cannon: no request');
  let next = 0;
  const r = await autocannon({
    setupClient: (client) => {
      const s = list[next++ % list.length] ?? spec;
      client.setRequests([{ method: s.method, path: s.path, headers: s.headers, ...(s.body === undefined ? {} : { body: s.body }) }]);
    },
    url: `${spec.origin}${spec.path}`,
    method: spec.method,
    headers: spec.headers,
    ...(spec.body === undefined ? {} : { body: spec.body }),
    connections: opts.connections,
    duration: opts.seconds,
    pipelining: 1,
    timeout: opts.timeoutS ?? 10,
    ...(opts.overallRate === undefined ? {} : { overallRate: Math.max(1, Math.round(opts.overallRate)) }),
  });
  const requests = r.requests.total;
  return {
    requests,
    seconds: r.duration,
    rps: requests / r.duration,
    bytesPerSec: r.throughput.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

export interface Sampled {
  /** Latencies in µs. */
  latenciesUs: number[];
  errors: number;
}

/** Keep-alive clients by origin, reused across rounds so connections stay warm. */
export class Clients {
  private readonly clients = new Map<string, Client>();

  get(origin: string): Client {
    let c = this.clients.get(origin);
    if (c === undefined) {
      c = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 });
      this.clients.set(origin, c);
    }
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}

/** `n` requests one after another on one connection; non-2xx answers count as errors. */
export async function sequential(clients: Clients, spec: HttpSpec, n: number): Promise<Sampled> {
  const client = clients.get(spec.origin);
  const latenciesUs: number[] = [];
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    try {
      const res = await client.request({ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body ?? null });
      await res.body.arrayBuffer();
      if (res.statusCode < 200 || res.statusCode >= 300) errors++;
    } catch {
      errors++;
    }
    latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return { latenciesUs, errors };
}

/** Open loop at `rate` req/s for `seconds` over up to `connections` sockets; request i is specs[i % n]. */
export async function paced(specs: HttpSpec[], opts: { rate: number; seconds: number; connections: number }): Promise<Sampled & { sent: number }> {
  const spec = specs[0];
  if (spec === undefined) throw new Error('paced: no request');
  const pool = new Pool(spec.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latenciesUs: number[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const intervalMs = 1000 / opts.rate;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
    for (; sent < due; sent++) {
      const scheduled = start + sent * intervalMs;
      const s = specs[sent % specs.length] ?? spec;
      const p: Promise<void> = pool
        .request({ method: s.method, path: s.path, headers: s.headers, body: s.body ?? null })
        .then(async (res) => {
          await res.body.arrayBuffer();
          if (res.statusCode < 200 || res.statusCode >= 300) errors++;
          latenciesUs.push((performance.now() - scheduled) * 1000);
        })
        .catch(() => {
          errors++;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  await pool.close();
  return { latenciesUs, errors, sent };
}
