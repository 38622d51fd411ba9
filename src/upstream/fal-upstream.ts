/**
 * The only client of fal. One keep-alive undici Pool per fal origin; the request line is built here
 * from fixed parts (configured origin + a path the gateway composed), never from a client string.
 * Redirects are never followed (undici's request() does not follow them unless told to), so the fal
 * key can never travel to another origin (GHSA-m4v8-wqvr-p9f7).
 */
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';

export type FalOrigin = 'run' | 'queue';

export interface UpstreamRequest {
  origin: FalOrigin;
  method: 'GET' | 'POST' | 'PUT';
  /** Absolute path beginning with `/`, without query (e.g. `/fal-ai/stable-diffusion-v35-medium`). */
  path: string;
  /** Already-encoded query string without `?`, or empty. */
  query?: string;
  /** Forwardable headers the caller allowlisted; authorization is added here. */
  headers: Record<string, string>;
  body?: Buffer;
  /** Long-lived SSE streams use their own sockets, so they can never starve submits and polls. */
  stream?: boolean;
  /** Time allowed until fal's response headers arrive. */
  timeoutMs: number;
  /** Longest pause allowed between body chunks; default `timeoutMs`, 0 = none (SSE streams idle for long). */
  bodyTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Why a call to fal produced no response, and whether fal may have received the request. */
export class UpstreamFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'aborted' | 'broken',
    /** false only when the request certainly never left the gateway (connect failed). */
    readonly maybeDelivered: boolean,
    options?: { cause?: unknown },
  ) {
    super(`fal request failed: ${kind}`, options);
    this.name = 'UpstreamFailure';
  }
}

export interface FalUpstream {
  request(req: UpstreamRequest): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export interface FalUpstreamOptions {
  runUrl: string;
  queueUrl: string;
  falKey: string;
  userAgent: string;
  /** Sockets per fal origin. */
  connections?: number;
  /** Sockets reserved for status streams (queue origin). */
  streamConnections?: number;
}

export function createFalUpstream(opts: FalUpstreamOptions): FalUpstream {
  const make = (base: string, connections: number) => {
    const url = new URL(base);
    return {
      basePath: url.pathname.replace(/\/+$/, ''),
      pool: new Pool(url.origin, { connections, keepAliveTimeout: 10_000, connectTimeout: 10_000 }),
    };
  };
  const targets = { run: make(opts.runUrl, opts.connections ?? 256), queue: make(opts.queueUrl, opts.connections ?? 256) } as const;
  const streams = make(opts.queueUrl, opts.streamConnections ?? 100);
  const auth = `Key ${opts.falKey}`;

  return {
    async request(req) {
      const t = req.stream ? streams : targets[req.origin];
      const path = t.basePath + req.path + (req.query ? `?${req.query}` : '');
      const headers: Record<string, string> = { ...req.headers, authorization: auth, 'user-agent': opts.userAgent };
      if (req.body !== undefined) headers['content-length'] = String(req.body.length);
      try {
        return await t.pool.request({
          method: req.method,
          path,
          headers,
          body: req.body,
          headersTimeout: req.timeoutMs,
          // A stalled body (not a slow one) is what this bounds.
          bodyTimeout: req.bodyTimeoutMs ?? req.timeoutMs,
          signal: req.signal,
        });
      } catch (err) {
        // undici rethrows the signal's own reason (any value): an aborted call may have left.
        throw req.signal?.aborted === true ? new UpstreamFailure('aborted', true, { cause: err }) : classify(err);
      }
    },
    async close() {
      await Promise.all([targets.run.pool.close(), targets.queue.pool.close(), streams.pool.close()]);
    },
  };
}

function classify(err: unknown): UpstreamFailure {
  if (err instanceof undiciErrors.ConnectTimeoutError) return new UpstreamFailure('unreachable', false, { cause: err });
  if (err instanceof undiciErrors.HeadersTimeoutError) return new UpstreamFailure('timeout', true, { cause: err });
  if (err instanceof undiciErrors.RequestAbortedError) return new UpstreamFailure('aborted', true, { cause: err });
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
    return new UpstreamFailure('unreachable', false, { cause: err });
  }
  if ((err as { name?: unknown }).name === 'AbortError') return new UpstreamFailure('aborted', true, { cause: err });
  return new UpstreamFailure('broken', true, { cause: err });
}
