/**
 * The queue operations (https://queue.fal.run/…): submit, status, result, cancel. The status stream
 * lives in sse-relay.ts. Request-scoped operations reach here only after the ownership check.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PATH, REQUESTS_PREFIX } from '../domain/model.js';
import { canonicalWebhook, webhookAllowed } from '../domain/webhook.js';
import { microToUsd } from '../domain/pricing.js';
import { GatewayError } from '../errors.js';
import { reserve, settleUnknown } from './accounting.js';
import type { PipelineContext } from './context.js';
import { answerCostHeaders, postToFal } from './fal-post.js';
import { failpoint } from './failpoint.js';
import { relayedResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { bodyHash, idempotencyKeyOf, rememberQuietly, replay } from './idempotency.js';
import { ownerIdOf, type Principal } from './principal.js';
import { queueRequestsBase, withGatewayUrls } from './queue-urls.js';
import type { StatusSnapshot } from './status-coalescer.js';
import { readSubmitHandle } from './submit-answer.js';
import { callFal, readJsonObject } from './upstream-call.js';
import type { ValidInput } from './valid-input.js';
import { gatewayWebhookUrl } from '../webhooks/gateway-webhooks.js';

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
  const hook = webhookPlan(ctx, principal, opts.webhook);
  // The idempotency fingerprint covers what the caller asked (its own fal_webhook), never the
  // gateway's endpoint, so a retry matches whether or not the relay is configured.
  const query = new URLSearchParams();
  if (hook.callerUrl !== null) query.set('fal_webhook', hook.callerUrl);
  if (opts.maxQueueLength !== null) query.set('fal_max_queue_length', String(opts.maxQueueLength));
  const falQuery = new URLSearchParams(query);
  if (hook.falUrl !== null) falQuery.set('fal_webhook', hook.falUrl);

  const idemKey = idempotencyKeyOf(request, principal.token?.id ?? null);
  const hash = idemKey === null ? null : bodyHash(input.raw, query.toString());
  const reservation = await reserve(ctx, principal, input.input, { id: request.id, operation: 'submit', idempotencyKey: idemKey, bodyHash: hash });
  if ('duplicate' in reservation) return replay(ctx, reservation.duplicate, hash ?? '', reply);
  const { row } = reservation;
  failpoint(ctx.config.failpoint, 'after-reserve');
  // Stored before fal is called, so fal's delivery always finds where to relay (no URL: settlement
  // only), and the reconciler knows fal will deliver. If this write fails nothing was sent: the
  // row stays unsent and the reconciler releases it.
  if (hook.relay) {
    await ctx.stores.webhooks.register({ ledgerId: row.id, keyId: principal.keyId, url: hook.callerUrl, createdAt: ctx.now().getTime() });
  }

  const res = await postToFal(ctx, request, row, {
    origin: 'queue',
    method: 'POST',
    path: MODEL_PATH,
    query: falQuery.toString(),
    headers: upstreamRequestHeaders(request.headers, true),
    body: input.raw,
    timeoutMs: ctx.config.pollTimeoutMs,
  });
  failpoint(ctx.config.failpoint, 'after-upstream');
  const at = () => ctx.now().toISOString();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    // fal refused the submit (its validation, fal_max_queue_length, …): nothing will run or bill.
    const refused = () => ctx.stores.ledger.release(row.id, { outcome: 'refused_by_fal', httpStatus: res.statusCode, at: at() });
    let raw: Buffer;
    try {
      raw = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      await ctx.ledgerRetry.write(row.id, 'release', refused);
      request.log.warn({ err, upstreamStatus: res.statusCode }, 'fal refused a submit and its answer broke off');
      throw new GatewayError('upstream_bad_response', 'fal refused the request and its answer broke off; nothing was queued');
    }
    await ctx.ledgerRetry.write(row.id, 'release', refused);
    const headers = relayedResponseHeaders(res.headers, true);
    if (idemKey !== null) await rememberQuietly(ctx, request, row.id, { statusCode: res.statusCode, headers, body: raw });
    return reply.code(res.statusCode).headers(headers).send(raw);
  }
  const handle = await readSubmitHandle(res, request);
  const requestId = handle.requestId;
  if (requestId === null || handle.body === null) {
    // fal accepted something we cannot follow: charge the quote (flagged), never invite a retry.
    await ctx.ledgerRetry.write(row.id, 'settle at quote', () => settleUnknown(ctx, row, true));
    throw new GatewayError('upstream_outcome_unknown', 'fal accepted the request but sent no usable request id; it may run and be billed. Check usage before retrying.');
  }
  request.facts.falRequestId = requestId;
  // One write before the client learns the id: the row with its fal id is also the request's owner
  // (its key and token), so the client's first poll finds it, and the reconciler can always follow
  // the reservation to fal. If the database does not take it, it is retried (ledger-retry.ts) and
  // the client is told the request may run.
  const attach = () => ctx.stores.ledger.attachFalRequestId(row.id, requestId);
  if (!(await ctx.ledgerRetry.write(row.id, 'attach fal request id', attach))) {
    throw new GatewayError('upstream_outcome_unknown', 'fal queued the request but the gateway could not record it; it will run and be billed. Check usage before retrying.', { 'x-fal-request-id': requestId });
  }
  ctx.owners.recorded(requestId, ownerIdOf(principal));
  failpoint(ctx.config.failpoint, 'after-attach');
  const headers = {
    ...relayedResponseHeaders(res.headers, false),
    ...(await answerCostHeaders(ctx, request, reservation, reservation.quote.microUsd)),
    'content-type': 'application/json; charset=utf-8',
  };
  const out = Buffer.from(JSON.stringify(withGatewayUrls(handle.body, queueRequestsBase(ctx.config.publicUrl, request))));
  if (idemKey !== null) await rememberQuietly(ctx, request, row.id, { statusCode: res.statusCode, headers, body: out });
  return reply.code(res.statusCode).headers(headers).send(out);
}

interface WebhookPlan {
  /** The caller's fal_webhook, checked and canonical; null without one. */
  callerUrl: string | null;
  /** What goes to fal as fal_webhook: the gateway's endpoint, the caller's URL unchanged, or none. */
  falUrl: string | null;
  /** fal delivers to the gateway's endpoint, which settles and relays to `callerUrl` if any (webhooks/). */
  relay: boolean;
}

/**
 * With a webhook public URL, fal delivers to the gateway (which settles and relays) whenever the
 * caller asked for a webhook or WEBHOOK_SETTLEMENT is on; without one, the caller's URL goes to
 * fal unchanged, as before the relay (docs/fal-protocol.md §2.4).
 */
function webhookPlan(ctx: PipelineContext, principal: Principal, webhook: string | null): WebhookPlan {
  let callerUrl: string | null = null;
  if (webhook !== null) {
    if (!webhookAllowed(webhook, principal.key.allowedWebhookUrls, { allowLoopbackHttp: ctx.config.webhooks.allowLoopbackHttp })) {
      throw new GatewayError('forbidden', 'fal_webhook must be an https URL registered on this key (allowed_webhook_urls)');
    }
    callerUrl = canonicalWebhook(webhook);
  }
  const own = gatewayWebhookUrl(ctx);
  if (own === null) return { callerUrl, falUrl: callerUrl, relay: false };
  const useOwn = callerUrl !== null || ctx.config.webhooks.settlement;
  return { callerUrl, falUrl: useOwn ? own : null, relay: useOwn };
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
  const chargedMicro = await ctx.settler.onResult(requestId, res.statusCode, res.headers);
  reply.code(res.statusCode).headers(relayedResponseHeaders(res.headers, true));
  // The job's settled charge (the submit's header was only the estimate, before fal ran it).
  if (chargedMicro !== null) reply.header('x-gateway-cost-usd', microToUsd(chargedMicro));
  return reply.send(res.body);
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
