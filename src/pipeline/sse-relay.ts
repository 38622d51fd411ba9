/**
 * The status stream (`GET …/requests/{id}/status/stream`, text/event-stream). Events are relayed as
 * they arrive, never buffered: each `data:` line (one JSON status, docs/fal-protocol.md §2.3) gets the
 * gateway's URLs, and every other line passes through unchanged. Statuses seen on the stream also
 * refresh the poll cache, and the upstream stream is closed when the client goes away.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUESTS_PREFIX } from '../domain/model.js';
import type { PipelineContext } from './context.js';
import { queueRequestsBase, withGatewayUrls } from './queue-urls.js';
import { callFal } from './upstream-call.js';

export async function streamOp(ctx: PipelineContext, requestId: string, logs: boolean, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const base = queueRequestsBase(ctx.config.publicUrl, request);
  const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

  // Already finished: answer from memory with the one terminal event fal would send.
  const done = ctx.statuses.terminal(requestId);
  if (done) {
    return reply.code(200).headers(sseHeaders).send(`data: ${JSON.stringify(withGatewayUrls(done.body, base))}\n\n`);
  }

  const release = ctx.streams.acquire(request.facts.keyId ?? '');
  const abort = new AbortController();
  // The response's 'close' fires when the client goes away (or the stream ends); the request's own
  // 'close' fires as soon as its (empty) body has been read, which is too early.
  const untrack = ctx.streams.track(() => abort.abort());
  reply.raw.once('close', () => {
    abort.abort();
    release();
    untrack();
  });
  const res = await callFal(ctx, request, {
    origin: 'queue',
    method: 'GET',
    path: `${REQUESTS_PREFIX}/${encodeURIComponent(requestId)}/status/stream`,
    query: logs ? 'logs=1' : 'logs=0',
    headers: { accept: 'text/event-stream' },
    timeoutMs: ctx.config.pollTimeoutMs,
    bodyTimeoutMs: 0,
    signal: abort.signal,
    stream: true,
  }).catch((err: unknown) => {
    release();
    throw err;
  });
  if (res.statusCode !== 200) {
    return reply.code(res.statusCode).type(String(res.headers['content-type'] ?? 'application/json')).send(res.body);
  }
  const rewrite = new SseRewriter((status) => {
    const terminal = status.status === 'COMPLETED';
    ctx.statuses.observe(requestId, logs, { statusCode: terminal ? 200 : 202, body: status, at: ctx.now().getTime(), terminal });
    ctx.settler.onStatus(requestId, status);
    return withGatewayUrls(status, base);
  });
  res.body.on('error', (err: Error) => rewrite.destroy(err));
  return reply.code(200).headers(sseHeaders).send(res.body.pipe(rewrite));
}

const MAX_LINE = 1024 * 1024;

/** Line-oriented SSE transform: rewrites JSON `data:` lines, passes the rest, keeps partial lines. */
export class SseRewriter extends Transform {
  private pending = '';

  constructor(private readonly onStatus: (status: Record<string, unknown>) => Record<string, unknown>) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending += chunk.toString('utf8');
    const lastNewline = this.pending.lastIndexOf('\n');
    // A status event is a few hundred bytes; an endless line is a broken or hostile upstream.
    if (lastNewline === -1 && this.pending.length > MAX_LINE) return cb(new Error('status stream line too long'));
    if (lastNewline === -1) return cb();
    const complete = this.pending.slice(0, lastNewline + 1);
    this.pending = this.pending.slice(lastNewline + 1);
    cb(null, complete.split('\n').map((line, i, all) => (i === all.length - 1 ? line : this.rewriteLine(line))).join('\n'));
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.pending.length > 0 ? this.rewriteLine(this.pending) : undefined);
  }

  private rewriteLine(line: string): string {
    const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!bare.startsWith('data:')) return line;
    try {
      const value: unknown = JSON.parse(bare.slice(5));
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return line;
      return `data: ${JSON.stringify(this.onStatus(value as Record<string, unknown>))}`;
    } catch {
      return line;
    }
  }
}
