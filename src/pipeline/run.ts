/**
 * The sync operation (`POST https://fal.run/fal-ai/stable-diffusion-v35-medium`): reserve the quote,
 * forward with FAL_KEY, settle from fal's answer headers, then relay fal's status, headers and
 * bytes. The body is streamed back untouched: it may be megabytes of base64 (`sync_mode`) and carry
 * seeds above 2^53. Settlement happens before the body is relayed, so the spend is in the reports
 * as soon as the response has been sent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PATH } from '../domain/model.js';
import { UpstreamFailure } from '../upstream/fal-upstream.js';
import { costHeaders, reserve, settleFromAnswer, settleUnknown } from './accounting.js';
import type { PipelineContext } from './context.js';
import { failpoint } from './failpoint.js';
import { relayedResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { bodyHash, idempotencyKeyOf, replay, teeForReplay } from './idempotency.js';
import type { Principal } from './principal.js';
import { callFal } from './upstream-call.js';
import type { ValidInput } from './valid-input.js';

export async function runOp(ctx: PipelineContext, principal: Principal, input: ValidInput, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const idemKey = idempotencyKeyOf(request, principal.token?.id ?? null);
  const hash = idemKey === null ? null : bodyHash(input.raw);
  const reservation = await reserve(ctx, principal, input.input, { id: request.id, operation: 'run', idempotencyKey: idemKey, bodyHash: hash });
  if ('duplicate' in reservation) return replay(ctx, reservation.duplicate, hash ?? '', reply);
  const { row } = reservation;
  failpoint(ctx.config.failpoint, 'after-reserve');

  let upstream;
  try {
    upstream = await callFal(ctx, request, {
      origin: 'run',
      method: 'POST',
      path: MODEL_PATH,
      headers: upstreamRequestHeaders(request.headers, true),
      body: input.raw,
      timeoutMs: ctx.config.runTimeoutMs,
    });
  } catch (err) {
    // No answer: charge the quote if fal may have run it (flagged unverified), else release.
    await settleUnknown(ctx, row, err instanceof UpstreamFailure ? err.maybeDelivered : false);
    throw err;
  }
  failpoint(ctx.config.failpoint, 'after-upstream');
  const falId = upstream.headers['x-fal-request-id'];
  const falRequestId = typeof falId === 'string' ? falId : null;
  if (falRequestId !== null) request.facts.falRequestId = falRequestId;
  const cost = await settleFromAnswer(ctx, row, upstream.statusCode, upstream.headers, falRequestId);
  const headers = { ...relayedResponseHeaders(upstream.headers, true), ...(await costHeaders(ctx, reservation, cost ?? 0)) };
  reply.code(upstream.statusCode).headers(headers);
  if (idemKey === null) return reply.send(upstream.body);
  return reply.send(teeForReplay(ctx, row.id, upstream.statusCode, headers, upstream.body, request.log));
}
