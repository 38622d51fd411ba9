/**
 * Which headers cross the gateway, in each direction. Explicit allowlists: the caller's
 * Authorization never reaches fal (docs/fal-protocol.md §6.4), and hop-by-hop or `Connection`-named
 * headers are never copied (GHSA-gwhp-pf74-vj37).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** fal platform headers a client may set (docs/fal-protocol.md §2.5, §6.11). */
export const FORWARDED_REQUEST_HEADERS = [
  'x-fal-queue-priority',
  'x-fal-request-timeout',
  'x-fal-runner-hint',
  'x-fal-object-lifecycle-preference',
  'x-fal-store-io',
  'x-fal-no-retry',
  'x-app-fal-disable-fallback',
] as const;

/** fal response headers passed back (docs/fal-protocol.md §2.6). */
const RELAYED_RESPONSE_HEADERS = [
  'content-type',
  'x-fal-request-id',
  'x-fal-error-type',
  'x-fal-retryable',
  'x-fal-needs-retry',
  'x-fal-request-timeout-type',
  'x-fal-served-from',
  'x-fal-runner-hints',
  'retry-after',
] as const;

/** A value fal clients can parse: `@fal-ai/client` throws on a non-numeric billable-units header. */
const NUMERIC = /^\d+(\.\d+)?$/;

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, hasBody: boolean): Record<string, string> {
  const out: Record<string, string> = { accept: 'application/json' };
  if (hasBody) out['content-type'] = 'application/json';
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = incoming[name];
    if (typeof v === 'string' && v.length <= 4096) out[name] = v;
  }
  return out;
}

/**
 * Headers copied from fal's response. `content-length` only when the body passes through
 * unchanged (`bodyUnchanged`); the gateway rewrites queue bodies and must let Node recompute it.
 */
export function relayedResponseHeaders(upstream: IncomingHttpHeaders, bodyUnchanged: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const length = upstream['content-length'];
  if (bodyUnchanged && typeof length === 'string' && /^\d+$/.test(length)) out['content-length'] = length;
  for (const name of RELAYED_RESPONSE_HEADERS) {
    const v = upstream[name];
    if (typeof v === 'string') out[name] = v;
  }
  const units = upstream['x-fal-billable-units'];
  if (typeof units === 'string' && NUMERIC.test(units)) out['x-fal-billable-units'] = units;
  return out;
}
