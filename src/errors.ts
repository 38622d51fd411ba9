/**
 * The one catalog of client-facing errors (docs/design.md §1). Every non-validation error leaves the gateway
 * as `{"detail": "<human text>", "error_type": "<code>", "request_id": "<gateway id>"}` with the
 * status below, so fal clients (which read `detail` and `error_type`) parse it unchanged.
 * Validation errors use fal's 422 `{"detail": [...]}` shape instead (see http/reply-errors.ts).
 */
import type { ValidationIssue } from './domain/validation.js';

export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  /** Never 429: fal clients retry 429 automatically and would hammer an empty budget. */
  budget_exceeded: 402,
  forbidden: 403,
  /** A console-session call that changes state without its x-csrf-token, or from another origin. */
  csrf_token_invalid: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  /** Too many generations in flight (a key's max_concurrency or GLOBAL_MAX_CONCURRENCY). */
  concurrency_limited: 429,
  internal_error: 500,
  /**
   * A POST reached (or may have reached) fal and no answer came back. 500, not 502/503/504, because
   * `@fal-ai/client` retries those on run/submit and would pay twice (docs/reliability.md B3).
   */
  upstream_outcome_unknown: 500,
  upstream_unreachable: 502,
  /** fal refused the gateway's own FAL_KEY (401/403): an operator problem, never the caller's key. */
  upstream_auth_failed: 502,
  upstream_bad_response: 502,
  service_unavailable: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure the handlers throw or return; the error handler turns it into fal's shape. */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'GatewayError';
    this.status = ERROR_STATUS[code];
  }
}

/**
 * A refusal in fal's 422 validation shape (`{"detail": [{loc, msg, type}]}`), thrown where a
 * handler cannot return it: no fal client retries a 422, and @fal-ai/client raises it as a
 * ValidationError with the issues in `fieldErrors`.
 */
export class ValidationRefusal extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => i.msg).join('; '));
    this.name = 'ValidationRefusal';
  }
}

/** SQLSTATE classes and codes that mean "the database is not answering", not "the query is wrong". */
const PG_UNAVAILABLE = /^(08...|57P0[1-3]|57014|25P03|53300)$/;
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'SQLITE_BUSY']);
/** pg reports a lost or timed-out connection with these messages and no code. */
const PG_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended unexpectedly/i;

/**
 * True when `err` (or its cause) says the store could not be reached in time (refused, reset,
 * connect or statement timeout, server shutting down, SQLite busy) rather than a bug: the client
 * gets 503 `service_unavailable` for it when nothing was sent to fal (http/reply-errors.ts).
 */
export function isStoreUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (PG_UNAVAILABLE.test(code) || NET_UNAVAILABLE.has(code))) return true;
  if (PG_MESSAGES.test(err.message)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isStoreUnavailable(e, depth + 1))) return true;
  return isStoreUnavailable(err.cause, depth + 1);
}
