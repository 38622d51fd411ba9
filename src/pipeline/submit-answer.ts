/**
 * Reading fal's answer to a queue submit (issue #9, items 3 and 9b). fal accepted the job once its
 * 2xx headers came, so an unreadable body must never become a retryable answer (a retried submit
 * is a second paid job): the request id is taken from the body, else from fal's
 * `x-fal-request-id` header, and the client gets a normal queue handle either way. Only when no
 * usable id exists is the row charged at its quote (flagged) and the answer a 500
 * upstream_outcome_unknown.
 */
import type { Dispatcher } from 'undici';
import type { FastifyRequest } from 'fastify';
import { REQUEST_ID_PATTERN } from '../domain/operation.js';

export interface SubmitHandle {
  /** fal's request id, or null when neither the body nor the header carries a usable one. */
  requestId: string | null;
  /** fal's submit body, or a minimal handle built from the header id when the body was unusable. */
  body: Record<string, unknown> | null;
}

export async function readSubmitHandle(res: Dispatcher.ResponseData, request: Pick<FastifyRequest, 'log'>): Promise<SubmitHandle> {
  const header = res.headers['x-fal-request-id'];
  const headerId = typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : null;
  let body: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(await res.body.text());
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) body = value as Record<string, unknown>;
  } catch (err) {
    request.log.warn({ err, falRequestId: headerId }, 'fal accepted a submit but its answer could not be read');
  }
  const bodyId = body?.request_id;
  if (typeof bodyId === 'string' && REQUEST_ID_PATTERN.test(bodyId)) return { requestId: bodyId, body };
  if (headerId === null) return { requestId: null, body: null };
  request.log.warn({ falRequestId: headerId }, 'fal submit answer without a usable request_id; using its x-fal-request-id header');
  return { requestId: headerId, body: { status: 'IN_QUEUE', request_id: headerId } };
}
