/**
 * The one pipeline every door feeds (docs/design.md §2): route → authenticate → authorise → validate →
 * forward → relay. Host mode and proxy mode differ only in how they produce the Operation.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../domain/operation.js';
import { checkPolicy } from '../domain/policy.js';
import { GatewayError } from '../errors.js';
import { sendValidation } from '../http/reply-errors.js';
import type { PipelineContext } from './context.js';
import { authenticate, mayAccess } from './principal.js';
import { cancelOp, resultOp, statusOp, submitOp } from './queue-ops.js';
import { runOp } from './run.js';
import { streamOp } from './sse-relay.js';
import { validInput } from './valid-input.js';

export async function execute(ctx: PipelineContext, op: Operation, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  request.facts.op = op.kind;
  const principal = await authenticate(ctx, request);
  request.facts.keyId = principal.keyId;
  const generation = op.kind === 'run' || op.kind === 'submit';
  await ctx.limits.check(request, reply, principal.keyId, principal.key.rpm, generation ? 'generation' : 'polling');

  if (op.kind === 'run' || op.kind === 'submit') {
    const input = validInput(ctx, request);
    if ('issues' in input) return sendValidation(reply, input.issues);
    // Policy before any spend: what this key may ask fal for.
    const verdict = checkPolicy(input.input, principal.key.policy, ctx.config.maxMegapixelsPerImage);
    if (!verdict.ok) {
      request.facts.refusal = 'policy';
      if (verdict.status === 403) throw new GatewayError('forbidden', verdict.detail);
      return sendValidation(reply, verdict.issues);
    }
    return op.kind === 'run'
      ? runOp(ctx, principal, input, request, reply)
      : submitOp(ctx, principal, input, { webhook: op.webhook, maxQueueLength: op.maxQueueLength }, request, reply);
  }

  // fal's queue is shared by every key of the gateway: only the submitter may touch a request.
  request.facts.falRequestId = op.requestId;
  await ctx.owners.assertOwner(op.requestId, (owner) => mayAccess(principal, owner));
  switch (op.kind) {
    case 'status':
      return statusOp(ctx, op.requestId, op.logs, request, reply);
    case 'stream':
      return streamOp(ctx, op.requestId, op.logs, request, reply);
    case 'result':
      return resultOp(ctx, op.requestId, request, reply);
    case 'cancel':
      return cancelOp(ctx, op.requestId, request, reply);
  }
}
