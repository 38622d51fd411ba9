/**
 * The one catalog of what the sim answers, in fal's shapes (docs/fal-protocol.md §2.7): pydantic-style 422
 * `{"detail":[...]}` for input problems, flat `{"detail","error_type"}` plus `X-Fal-Error-Type`
 * for infrastructure errors. Bodies are pre-serialized JSON text so the raw seed survives.
 */
import type { FieldError } from './input-check.js';

export interface SimReply {
  status: number;
  /** JSON text. */
  body: string;
  headers: Record<string, string>;
}

export function reply(status: number, body: unknown, headers: Record<string, string> = {}): SimReply {
  return { status, body: JSON.stringify(body), headers };
}

/** Bad or missing key (fal-ai/fal issue #1068 body). */
export function unauthorized(): SimReply {
  return reply(401, { detail: 'No user found for Key ID and Secret' });
}

/** Input validation: fal's framework stamps these with zero billable units (docs/fal-protocol.md §2.6). */
export function validationFailed(requestId: string, errors: FieldError[]): SimReply {
  return reply(422, { detail: errors }, { 'x-fal-request-id': requestId, 'x-fal-billable-units': '0' });
}

/** A late model error after generation ran, so it is billed (docs/fal-protocol.md §4, FAQ on 422). */
export function contentPolicyViolation(requestId: string, units: number): SimReply {
  const detail = [{ loc: ['body'], msg: 'The generated image was flagged by the content checker.', type: 'content_policy_violation', url: 'https://docs.fal.ai/errors/#content_policy_violation' }];
  return reply(422, { detail }, { 'x-fal-request-id': requestId, 'x-fal-billable-units': String(units) });
}

export function runnerServerError(requestId: string): SimReply {
  return infraError(500, 'runner_server_error', 'Internal server error in the runner (simulated).', requestId);
}

/** Sync over the concurrency limit (docs/fal-protocol.md §2.2, §2.8). */
export function concurrentRequestsLimit(requestId: string): SimReply {
  const r = infraError(429, 'concurrent_requests_limit', 'Too many concurrent requests; retry with backoff (simulated).', requestId);
  r.headers['x-fal-needs-retry'] = '1';
  return r;
}

export function clientCancelled(requestId: string): SimReply {
  return infraError(499, 'client_cancelled', 'Request was cancelled', requestId);
}

export function stillInProgress(requestId: string): SimReply {
  return reply(400, { detail: 'Request is still in progress' }, { 'x-fal-request-id': requestId });
}

export function requestNotFound(): SimReply {
  return reply(404, { status: 'NOT_FOUND' });
}

/** Unknown path, as fal's framework answers it (zero billable units, docs/fal-protocol.md §2.6). */
export function pathNotFound(): SimReply {
  return reply(404, { detail: 'Not Found' }, { 'x-fal-billable-units': '0' });
}

export function methodNotAllowed(): SimReply {
  return reply(405, { detail: 'Method Not Allowed' });
}

export function payloadTooLarge(): SimReply {
  return reply(413, { detail: 'Request body too large' });
}

function infraError(status: number, errorType: string, detail: string, requestId: string): SimReply {
  return reply(status, { detail, error_type: errorType }, {
    'x-fal-request-id': requestId,
    'x-fal-error-type': errorType,
    'x-fal-billable-units': '0',
  });
}
