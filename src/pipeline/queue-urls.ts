/**
 * fal's queue bodies carry `status_url`, `response_url` and `cancel_url` pointing at fal. Python
 * clients and curl users follow them, so the gateway rebuilds them to point at itself (from the
 * request id, never by editing fal's strings); fal's address never leaves the gateway.
 */
import type { FastifyRequest } from 'fastify';
import { MODEL_ID } from '../domain/model.js';

/** `<origin>/queue/fal-ai/stable-diffusion-v35-medium/requests`: PUBLIC_URL, else the request's origin. */
export function queueRequestsBase(publicUrl: string | undefined, request: FastifyRequest): string {
  const origin = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${origin}/queue/${MODEL_ID}/requests`;
}

/** A copy of a fal queue status/submit body with the three URLs rebuilt for the gateway. */
export function withGatewayUrls(body: Record<string, unknown>, requestsBase: string): Record<string, unknown> {
  const id = body.request_id;
  if (typeof id !== 'string') return body;
  const out: Record<string, unknown> = { ...body };
  const base = `${requestsBase}/${encodeURIComponent(id)}`;
  out.response_url = base;
  out.status_url = `${base}/status`;
  out.cancel_url = `${base}/cancel`;
  return out;
}
