/**
 * The sync operation (`POST https://fal.run/fal-ai/stable-diffusion-v35-medium`): validate, forward
 * with FAL_KEY, relay fal's status, headers and bytes. The body is streamed back untouched: it may
 * be megabytes of base64 (`sync_mode`) and carry seeds above 2^53.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PATH } from '../domain/model.js';
import type { PipelineContext } from './context.js';
import { relayedResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import type { Principal } from './principal.js';
import { callFal } from './upstream-call.js';
import type { ValidInput } from './valid-input.js';

export async function runOp(ctx: PipelineContext, _principal: Principal, input: ValidInput, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const upstream = await callFal(ctx, request, {
    origin: 'run',
    method: 'POST',
    path: MODEL_PATH,
    headers: upstreamRequestHeaders(request.headers, true),
    body: input.raw,
    timeoutMs: ctx.config.runTimeoutMs,
  });
  const falRequestId = upstream.headers['x-fal-request-id'];
  if (typeof falRequestId === 'string') request.facts.falRequestId = falRequestId;
  reply.code(upstream.statusCode).headers(relayedResponseHeaders(upstream.headers, true));
  return reply.send(upstream.body);
}
