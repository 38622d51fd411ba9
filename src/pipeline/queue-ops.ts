/**
 * The queue operations (https://queue.fal.run/…): submit, status, result, cancel. The status stream
 * lives in sse-relay.ts. Request-scoped operations reach here only after the ownership check.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PATH, REQUESTS_PREFIX } from '../domain/model.js';
import { canonicalWebhook, webhookAllowed } from '../domain/webhook.js';
import { REQUEST_ID_PATTERN } from '../domain/operation.js';
import { GatewayError } from '../errors.js';
import { UpstreamFailure } from '../upstream/fal-upstream.js';
import { costHeaders, reserve, settleUnknown } from './accounting.js';
import type { PipelineContext } from './context.js';
import { failpoint } from './failpoint.js';
import { relayedResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { bodyHash, idempotencyKeyOf, remember, replay } from './idempotency.js';
import { ownerIdOf, type Principal } from './principal.js';
import { queueRequestsBase, withGatewayUrls } from './queue-urls.js';
import type { StatusSnapshot } from './status-coalescer.js';
import { callFal, readJsonObject } from './upstream-call.js';
import type { ValidInput } from './valid-input.js';

export interface SubmitOptions {
  webhook: string | null;
  maxQueueLength: number | null;
}

export async function submitOp(
  ctx: PipelineContext,
  principal: Principal,
  input: ValidInput,
  opts: SubmitOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const query = new URLSearchParams();
  if (opts.webhook !== null) {
    if (!webhookAllowed(opts.webhook, principal.key.allowedWebhookUrls)) {
      throw new GatewayError('forbidden', 'fal_webhook must be an https URL registered on this key (allowed_webhook_urls)');
    }
    query.set('fal_webhook', canonicalWebhook(opts.webhook));
  }
  if (opts.maxQueueLength !== null) query.set('fal_max_queue_length', String(opts.maxQueueLength));

  const idemKey = idempotencyKeyOf(request, principal.token?.id ?? null);
  const hash = idemKey === null ? null : bodyHash(input.raw, query.toString());
  const reservation = await reserve(ctx, principal, input.input, { id: request.id, operation: 'submit', idempotencyKey: idemKey, bodyHash: hash });
  if ('duplicate' in reservation) return replay(ctx, reservation.duplicate, hash ?? '', reply);
  const { row } = reservation;
  failpoint(ctx.config.failpoint, 'after-reserve');

  let res;
  try {
    res = await callFal(ctx, request, {
      origin: 'queue',
      method: 'POST',
      path: MODEL_PATH,
      query: query.toString(),
      headers: upstreamRequestHeaders(request.headers, true),
      body: input.raw,
      timeoutMs: ctx.config.pollTimeoutMs,
    });
  } catch (err) {
    await settleUnknown(ctx, row, err instanceof UpstreamFailure ? err.maybeDelivered : false);
    throw err;
  }
  failpoint(ctx.config.failpoint, 'after-upstream');
  if (res.statusCode < 200 || res.statusCode >= 300) {
    // fal refused the submit (its validation, fal_max_queue_length, …): nothing will run or bill.
    const raw = Buffer.from(await res.body.arrayBuffer());
    await ctx.stores.ledger.release(row.id, { outcome: 'refused_by_fal', httpStatus: res.statusCode, at: ctx.now().toISOString() });
    const headers = relayedResponseHeaders(res.headers, true);
    if (idemKey !== null) await remember(ctx, row.id, { statusCode: res.statusCode, headers, body: raw });
    return reply.code(res.statusCode).headers(headers).send(raw);
  }
  let body: Record<string, unknown>;
  try {
    body = await readJsonObject(res);
  } catch (err) {
    await settleUnknown(ctx, row, true);
    throw err;
  }
  const requestId = body.request_id;
  if (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId)) {
    await settleUnknown(ctx, row, true);
    throw new GatewayError('upstream_bad_response', 'fal accepted the request without a usable request id');
  }
  request.facts.falRequestId = requestId;
  // Both written before the client learns the id: its first poll finds its owner, and the
  // reconciler can always follow the reservation to fal.
  await ctx.stores.ledger.attachFalRequestId(row.id, requestId);
  failpoint(ctx.config.failpoint, 'after-attach');
  await ctx.owners.record(requestId, ownerIdOf(principal), ctx.now().toISOString());
  const headers = {
    ...relayedResponseHeaders(res.headers, false),
    ...(await costHeaders(ctx, reservation, reservation.quote.microUsd)),
    'content-type': 'application/json; charset=utf-8',
  };
  const out = Buffer.from(JSON.stringify(withGatewayUrls(body, queueRequestsBase(ctx.config.publicUrl, request))));
  if (idemKey !== null) await remember(ctx, row.id, { statusCode: res.statusCode, headers, body: out });
  return reply.code(res.statusCode).headers(headers).send(out);
}

/** Fetches one status from fal; used by the coalescer, never per client poll. */
export function statusFetcher(ctx: PipelineContext, log: FastifyBaseLogger) {
  return async (requestId: string, logs: boolean): Promise<StatusSnapshot> => {
    const res = await callFal(ctx, { log }, {
      origin: 'queue',
      method: 'GET',
      path: `${REQUESTS_PREFIX}/${encodeURIComponent(requestId)}/status`,
      query: logs ? 'logs=1' : 'logs=0',
      headers: { accept: 'application/json' },
      timeoutMs: ctx.config.pollTimeoutMs,
    });
    const body = await readJsonObject(res);
    ctx.settler.onStatus(requestId, body);
    return { statusCode: res.statusCode, body, at: ctx.now().getTime(), terminal: res.statusCode === 200 && body.status === 'COMPLETED' };
  };
}

export async function statusOp(ctx: PipelineContext, requestId: string, logs: boolean, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const snap = await ctx.statuses.get(requestId, logs);
  return reply
    .code(snap.statusCode)
    .type('application/json')
    .send(withGatewayUrls(snap.body, queueRequestsBase(ctx.config.publicUrl, request)));
}

export async function resultOp(ctx: PipelineContext, requestId: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const res = await callFal(ctx, request, {
    origin: 'queue',
    method: 'GET',
    path: `${REQUESTS_PREFIX}/${encodeURIComponent(requestId)}`,
    headers: { accept: 'application/json' },
    timeoutMs: ctx.config.pollTimeoutMs,
  });
  await ctx.settler.onResult(requestId, res.statusCode, res.headers);
  return reply.code(res.statusCode).headers(relayedResponseHeaders(res.headers, true)).send(res.body);
}

export async function cancelOp(ctx: PipelineContext, requestId: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const res = await callFal(ctx, request, {
    origin: 'queue',
    method: 'PUT',
    path: `${REQUESTS_PREFIX}/${encodeURIComponent(requestId)}/cancel`,
    headers: { accept: 'application/json' },
    timeoutMs: ctx.config.pollTimeoutMs,
  });
  return reply.code(res.statusCode).headers(relayedResponseHeaders(res.headers, true)).send(res.body);
}
