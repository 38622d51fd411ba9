/** Step 4 of the pipeline for generation calls: the body must be JSON that fits the mirrored schema. */
import type { FastifyRequest } from 'fastify';
import type { Sd35Input } from '../domain/schema.js';
import type { ValidationIssue } from '../domain/validation.js';
import { GatewayError } from '../errors.js';
import { jsonBody } from '../http/json-body.js';
import type { PipelineContext } from './context.js';

export interface ValidInput {
  /** The exact bytes the client sent: what is forwarded. */
  raw: Buffer;
  /** The same body, parsed and validated: what is quoted and checked against policy. */
  input: Sd35Input;
}

export function validInput(ctx: PipelineContext, request: FastifyRequest): ValidInput | { issues: ValidationIssue[] } {
  const body = jsonBody(request);
  if (body === undefined || body.value === undefined) throw new GatewayError('bad_request', 'A JSON request body is required');
  const v = ctx.validateInput(body.value);
  return v.ok ? { raw: body.raw, input: v.input } : { issues: v.issues };
}
