/**
 * `/_sim/*` on the run listener: lets benchmarks and demos in other processes read stats and
 * steer faults. No auth: the sim is a loopback test tool, bound to 127.0.0.1 by default.
 * These calls are not logged in calls()/stats(), which describe fal traffic only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkPrice } from './account-bill.js';
import { checkFaultPatch } from './faults.js';
import { methodNotAllowed, pathNotFound } from './fal-replies.js';
import { readBody, sendJson, sendReply } from './http-io.js';
import type { SimState } from './sim-state.js';

const ROUTES: Record<string, string> = {
  '/_sim/stats': 'GET',
  '/_sim/calls': 'GET',
  '/_sim/faults': 'GET POST',
  '/_sim/reset': 'POST',
  '/_sim/pricing': 'GET POST',
  '/_sim/bill-twice': 'POST',
  '/_sim/webhooks': 'GET',
};

export async function handleControl(state: SimState, req: IncomingMessage, res: ServerResponse, path: string, resetSim: () => void): Promise<void> {
  const method = req.method ?? 'GET';
  const allowed = ROUTES[path];
  if (allowed === undefined || !allowed.split(' ').includes(method)) {
    req.resume();
    return sendReply(res, allowed === undefined ? pathNotFound() : methodNotAllowed());
  }
  const body = method === 'POST' ? await readBody(req) : undefined;
  if (method !== 'POST') req.resume();
  switch (`${method} ${path}`) {
    case 'GET /_sim/stats':
      return sendJson(res, 200, state.recorder.stats());
    case 'GET /_sim/calls':
      return sendJson(res, 200, state.recorder.calls());
    case 'GET /_sim/faults':
      return sendJson(res, 200, faultsJson(state));
    case 'POST /_sim/reset':
      resetSim();
      return sendJson(res, 200, { ok: true });
    case 'GET /_sim/pricing':
      return sendJson(res, 200, priceJson(state));
    case 'POST /_sim/pricing': {
      // Same field names as fal's pricing API answer: {"unit_price": 0.03, "unit": "megapixels"}.
      const input = parseJson(body) as { unit_price?: unknown; unit?: unknown } | undefined;
      const checked = checkPrice({ unitPrice: input?.unit_price, unit: input?.unit ?? state.price.unit });
      if (typeof checked === 'string') return sendJson(res, 400, { detail: checked });
      state.price = checked;
      return sendJson(res, 200, priceJson(state));
    }
    case 'POST /_sim/bill-twice': {
      const id = (parseJson(body) as { request_id?: unknown } | undefined)?.request_id;
      if (typeof id !== 'string' || !state.bill.billTwice(id)) return sendJson(res, 404, { detail: 'no billed request with that request_id' });
      return sendJson(res, 200, { ok: true, request_id: id });
    }
    case 'GET /_sim/webhooks':
      return sendJson(res, 200, state.webhookLog);
    default: {
      const checked = checkFaultPatch(parseJson(body));
      if (!checked.ok) return sendJson(res, 400, { detail: checked.error });
      state.faults = { ...state.faults, ...checked.patch };
      state.queue.pump();
      return sendJson(res, 200, faultsJson(state));
    }
  }
}

/** Current faults as JSON; an unlimited syncConcurrency shows as null (JSON has no Infinity). */
function faultsJson(state: SimState): Record<string, number | null> {
  return Object.fromEntries(Object.entries(state.faults).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}

function priceJson(state: SimState): Record<string, string | number> {
  return { unit_price: state.price.unitPrice, unit: state.price.unit, currency: 'USD' };
}

function parseJson(body: Buffer | undefined): unknown {
  try {
    return JSON.parse(body?.toString('utf8') ?? '') as unknown;
  } catch {
    return undefined;
  }
}
