/**
 * Calling fal and turning its failures into client answers, shared by every operation.
 */
import type { Dispatcher } from 'undici';
import type { FastifyRequest } from 'fastify';
import { GatewayError, type ErrorCode } from '../errors.js';
import { UpstreamFailure, type UpstreamRequest } from '../upstream/fal-upstream.js';
import type { PipelineContext, RequestFacts } from './context.js';

/**
 * A fal call that produced no response, as the client answer, plus what the ledger needs to know:
 * whether fal may have received the request (then a POST is charged at its quote, flagged).
 */
export class UpstreamCallError extends GatewayError {
  readonly maybeDelivered: boolean;
  readonly kind: UpstreamFailure['kind'];
  constructor(code: ErrorCode, detail: string, failure: UpstreamFailure) {
    super(code, detail);
    this.maybeDelivered = failure.maybeDelivered;
    this.kind = failure.kind;
  }
}

/**
 * Sends one request to fal; a failed call becomes the right GatewayError, fal's 401/403 included.
 * A call that produced no response throws UpstreamCallError (see `maybeDelivered`).
 * `request` is only used for its logger (a client request, or `{ log }` for background calls).
 */
export async function callFal(ctx: PipelineContext, request: Pick<FastifyRequest, 'log'> & { facts?: RequestFacts }, req: UpstreamRequest): Promise<Dispatcher.ResponseData> {
  if (req.method === 'POST' && request.facts) request.facts.sentToFal = true;
  if (ctx.shutdownSignal.aborted) {
    // The grace is over before this call left: nothing was sent, so a retry (elsewhere) is safe.
    throw new UpstreamCallError('service_unavailable', 'The gateway is shutting down; nothing was sent to fal, retry', new UpstreamFailure('aborted', false));
  }
  // The shutdown signal ends calls still waiting for fal's headers when the grace is over
  // (http/graceful-close.ts); a body already flowing is left to finish, so it is never cut by it.
  const untilHeaders = new AbortController();
  const onShutdown = (): void => untilHeaders.abort(ctx.shutdownSignal.reason);
  ctx.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  let res: Dispatcher.ResponseData;
  try {
    const signal = req.signal ? AbortSignal.any([req.signal, untilHeaders.signal]) : untilHeaders.signal;
    res = await ctx.upstream.request({ ...req, signal });
  } catch (err) {
    request.log.warn({ err, upstreamPath: req.path }, 'fal call failed');
    throw upstreamError(err, req.method);
  } finally {
    ctx.shutdownSignal.removeEventListener('abort', onShutdown);
  }
  if (res.statusCode === 401 || res.statusCode === 403) {
    // fal refused FAL_KEY (wrong, revoked, or the account is locked): never relay it as if the
    // caller's credentials were wrong, and never echo fal's body (it may describe the key).
    res.body.resume();
    request.log.error({ upstreamStatus: res.statusCode }, 'fal refused the gateway credentials');
    throw new GatewayError('upstream_auth_failed', 'fal refused the gateway credentials (FAL_KEY); the gateway operator must fix its configuration');
  }
  return res;
}

/** Reads a small JSON object answer from fal (queue submit/status/cancel bodies). */
export async function readJsonObject(res: Dispatcher.ResponseData): Promise<Record<string, unknown>> {
  const text = await res.body.text();
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new GatewayError('upstream_bad_response', 'fal sent an answer the gateway could not read');
}

/**
 * Maps a failed fal call to a client answer. For a POST that may have reached fal the outcome is
 * unknown, so the answer must not invite an automatic retry (which would pay twice).
 */
export function upstreamError(err: unknown, method: 'GET' | 'POST' | 'PUT'): UpstreamCallError {
  // Not a classified transport failure: nothing says the request did not leave, so assume it may have.
  if (!(err instanceof UpstreamFailure)) return upstreamError(new UpstreamFailure('broken', true, { cause: err }), method);
  if (!err.maybeDelivered) return new UpstreamCallError('upstream_unreachable', 'fal could not be reached; nothing was sent', err);
  if (method === 'POST') {
    return new UpstreamCallError(
      'upstream_outcome_unknown',
      'fal did not answer; the request may have been processed. Check usage before retrying.',
      err,
    );
  }
  return err.kind === 'timeout'
    ? new UpstreamCallError('upstream_timeout', 'fal did not answer in time', err)
    : new UpstreamCallError('upstream_unreachable', 'fal connection failed', err);
}
