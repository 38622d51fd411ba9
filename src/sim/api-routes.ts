/**
 * The listener that plays https://api.fal.ai (Platform APIs, docs/fal-protocol.md §4, §4.1) and
 * also serves the webhook JWKS that fal publishes on https://rest.fal.ai: the paths do not collide
 * and a receiver takes the JWKS URL as configuration, so one loopback origin plays both.
 *
 * Platform API errors are `{"error":{"type","message"}}` (UNCONFIRMED shape, §4.1). The usage API
 * needs the ADMIN-scope key: the serving key gets 403 `authorization_error`, any other 401.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MODEL_ID } from '../domain/model.js';
import { hasFalKey, sendJson } from './http-io.js';
import type { SimState } from './sim-state.js';
import { parseUsageQuery, usagePage } from './usage-api.js';

const ROUTES: Record<string, 'usage' | 'pricing' | 'keys'> = {
  '/v1/models/usage': 'usage',
  '/v1/models/pricing': 'pricing',
  '/.well-known/jwks.json': 'keys',
};

export function handleApiRequest(state: SimState, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://sim');
  const op = ROUTES[url.pathname] ?? 'other';
  state.recorder.record(op, req, url.pathname + url.search);
  if (op === 'other') return platformError(res, 404, 'not_found', 'Not Found');
  if (req.method !== 'GET') return platformError(res, 405, 'method_not_allowed', 'Method Not Allowed');
  if (op === 'keys') {
    // Public, cacheable: fal's docs tell receivers to cache the keys for at most 24 h.
    return sendJson(res, 200, state.signer.jwks(), { 'cache-control': 'public, max-age=86400' });
  }
  if (op === 'usage') return usage(state, req, res, url);
  pricing(state, req, res, url);
}

function usage(state: SimState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!hasFalKey(req, state.adminKey)) {
    if (hasFalKey(req, state.falKey)) return platformError(res, 403, 'authorization_error', 'This endpoint requires an API key with ADMIN scope');
    return platformError(res, 401, 'authorization_error', 'Invalid or missing API key');
  }
  const faults = state.faults;
  if (state.random() < faults.usageRate429) {
    return platformError(res, 429, 'rate_limited', 'Rate limit exceeded (simulated)', { 'retry-after': String(faults.usageRetryAfterS) });
  }
  const now = state.now();
  const q = parseUsageQuery(url.searchParams, now);
  if (typeof q === 'string') return platformError(res, 400, 'validation_error', q);
  // Late buckets: an entry is totalled only usageLagMs after it was billed.
  const visible = state.bill.charged().filter((e) => e.at + faults.usageLagMs <= now);
  const pageSize = faults.usageMaxPageSize > 0 ? Math.min(q.limit, faults.usageMaxPageSize) : q.limit;
  sendJson(res, 200, usagePage(q, visible, pageSize));
}

/** Any valid key of the account may read prices (fal: "a valid API key"); unknown ids are omitted. */
function pricing(state: SimState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!hasFalKey(req, state.falKey) && !hasFalKey(req, state.adminKey)) {
    return platformError(res, 401, 'authorization_error', 'Invalid or missing API key');
  }
  const ids = url.searchParams.getAll('endpoint_id').flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (ids.length < 1 || ids.length > 50) return platformError(res, 400, 'validation_error', 'endpoint_id: provide 1-50 endpoint IDs');
  const prices = ids.includes(MODEL_ID)
    ? [{ endpoint_id: MODEL_ID, unit_price: state.price.unitPrice, unit: state.price.unit, currency: 'USD' }]
    : [];
  sendJson(res, 200, { prices, next_cursor: null, has_more: false });
}

function platformError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { type, message } }, headers);
}
