/**
 * The sync operation (`POST https://fal.run/fal-ai/stable-diffusion-v35-medium`): reserve the quote,
 * mark the row sent and forward with FAL_KEY, read fal's answer (whole when it is small, see
 * sync-body.ts), settle from its headers, then relay fal's status, headers and bytes untouched (a
 * body may be megabytes of base64 (`sync_mode`) and carry seeds above 2^53). The settlement is
 * written before the answer leaves, so the spend is in the reports as soon as it has been sent;
 * when the database refuses it, fal's answer is delivered anyway and the write is retried
 * (ledger-retry.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PATH } from '../domain/model.js';
import { GatewayError } from '../errors.js';
import { reserve, settlementFromAnswer } from './accounting.js';
import type { PipelineContext } from './context.js';
import { answerCostHeaders, postToFal } from './fal-post.js';
import { failpoint } from './failpoint.js';
import { relayedResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { bodyHash, idempotencyKeyOf, rememberQuietly, replay, teeForReplay } from './idempotency.js';
import type { Principal } from './principal.js';
import { readSyncBody } from './sync-body.js';
import type { ValidInput } from './valid-input.js';

export async function runOp(ctx: PipelineContext, principal: Principal, input: ValidInput, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const idemKey = idempotencyKeyOf(request, principal.token?.id ?? null);
  const hash = idemKey === null ? null : bodyHash(input.raw);
  const reservation = await reserve(ctx, principal, input.input, { id: request.id, operation: 'run', idempotencyKey: idemKey, bodyHash: hash });
  if ('duplicate' in reservation) return replay(ctx, reservation.duplicate, hash ?? '', reply);
  const { row } = reservation;
  failpoint(ctx.config.failpoint, 'after-reserve');

  const upstream = await postToFal(ctx, request, row, {
    origin: 'run',
    method: 'POST',
    path: MODEL_PATH,
    headers: upstreamRequestHeaders(request.headers, true),
    body: input.raw,
    timeoutMs: ctx.config.runTimeoutMs,
  });
  failpoint(ctx.config.failpoint, 'after-upstream');
  const rawFalId = upstream.headers['x-fal-request-id'];
  const falRequestId = typeof rawFalId === 'string' ? rawFalId : null;
  if (falRequestId !== null) request.facts.falRequestId = falRequestId;
  const body = await readSyncBody(upstream.body);
  // fal billed what its headers say even when the body broke off: the generation ran.
  const settlement = settlementFromAnswer(ctx, row, upstream.statusCode, upstream.headers, body.kind === 'broken' ? 'body_lost' : undefined);
  await ctx.ledgerRetry.write(row.id, 'settle from fal answer', async () => {
    if (falRequestId !== null) await ctx.stores.ledger.attachFalRequestId(row.id, falRequestId);
    await settlement.apply();
  });
  const cost = await answerCostHeaders(ctx, request, reservation, settlement.costMicro);

  // A streamed body may break while the settlement is written: then nothing has been sent yet, so
  // the client can still get the complete answer below rather than a cut transfer.
  const brokeEarly = body.kind === 'streamed' && body.stream.errored !== null;
  if (body.kind === 'broken' || brokeEarly) {
    request.log.warn({ err: body.kind === 'broken' ? body.err : undefined, upstreamStatus: upstream.statusCode }, 'fal answer broke off before it was complete');
    const err = new GatewayError(
      'upstream_outcome_unknown',
      'fal ran the request but its answer broke off; it was billed. Check usage before retrying.',
      { ...cost, ...(falRequestId === null ? {} : { 'x-fal-request-id': falRequestId }) },
    );
    // A retry with the same Idempotency-Key gets this answer again, not a second generation.
    if (idemKey !== null) await rememberError(ctx, request, row.id, err);
    throw err;
  }
  const headers = { ...relayedResponseHeaders(upstream.headers, true), ...cost };
  reply.code(upstream.statusCode).headers(headers);
  if (body.kind === 'complete') {
    if (idemKey !== null) await rememberQuietly(ctx, request, row.id, { statusCode: upstream.statusCode, headers, body: body.bytes });
    return reply.send(body.bytes);
  }
  if (idemKey === null) return reply.send(body.stream);
  return reply.send(teeForReplay(ctx, row.id, upstream.statusCode, headers, body.stream, request.log));
}

function rememberError(ctx: PipelineContext, request: FastifyRequest, rowId: string, err: GatewayError): Promise<void> {
  const body = Buffer.from(JSON.stringify({ detail: err.detail, error_type: err.code, request_id: request.id }));
  return rememberQuietly(ctx, request, rowId, { statusCode: err.status, headers: { ...err.headers, 'content-type': 'application/json; charset=utf-8' }, body });
}
