/**
 * What a failure-matrix row observed: the client's answer to one POST, and afterwards the key's
 * ledger next to the simulated fal's own bill for the same call.
 */
import { costOfBillableUnits } from '../../src/domain/pricing.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import type { Stores } from '../../src/store/stores.js';
import type { ClientAnswer } from '../helpers/retryable.js';
import type { Door, Op } from './wire-fault-rows.js';

export const MODEL = '/fal-ai/stable-diffusion-v35-medium';
const TARGET = { run: `https://fal.run${MODEL}`, submit: `https://queue.fal.run${MODEL}` } as const;

export interface Answer {
  answer: ClientAnswer;
  status: number | 'transport';
  errorType: string | undefined;
  gatewayId: string | undefined;
  /** The queue handle's request id, for a 200 submit. */
  handle: string | undefined;
  body: string;
}

/** Sends one run or submit through `door`, tagged with `x-fal-runner-hint` so the sim's call log ties it to the row. */
export async function post(gwUrl: string, key: string, op: Op, door: Door, input: Record<string, unknown>, hint: string, timeoutMs = 20_000, extra: Record<string, string> = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...extra, authorization: `Key ${key}`, 'content-type': 'application/json', 'x-fal-runner-hint': hint };
  let url = gwUrl + (op === 'run' ? MODEL : `/queue${MODEL}`);
  if (door === 'proxy') {
    url = `${gwUrl}/api/fal/proxy`;
    headers['x-fal-target-url'] = TARGET[op];
  }
  try {
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(input), signal: AbortSignal.timeout(timeoutMs) });
    const hs: Record<string, string> = {};
    res.headers.forEach((v, k) => (hs[k] = v));
    const body = await res.text();
    const parsed = parseObject(body);
    const errorType = typeof parsed?.error_type === 'string' ? parsed.error_type : undefined;
    const handle = op === 'submit' && res.status === 200 && typeof parsed?.request_id === 'string' ? parsed.request_id : undefined;
    return { answer: { kind: 'http', status: res.status, headers: hs, body }, status: res.status, errorType, gatewayId: hs['x-gateway-request-id'], handle, body };
  } catch {
    // A reset, a cut body, or our own timeout: the client saw no complete answer.
    return { answer: { kind: 'transport' }, status: 'transport', errorType: undefined, gatewayId: undefined, handle: undefined, body: '' };
  }
}

/** Follows a queue handle as a client would: fetch the result until it is final (or `ms` passes). */
export async function followHandle(gwUrl: string, key: string, requestId: string, ms = 8_000): Promise<number | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const res = await fetch(`${gwUrl}/queue${MODEL}/requests/${requestId}/status`, { headers: { authorization: `Key ${key}` } }).catch(() => undefined);
    const body = res ? parseObject(await res.text()) : undefined;
    if (body?.status === 'COMPLETED') {
      const result = await fetch(`${gwUrl}/queue${MODEL}/requests/${requestId}`, { headers: { authorization: `Key ${key}` } }).catch(() => undefined);
      await result?.arrayBuffer();
      return result?.status;
    }
    await sleep(50);
  }
  return undefined;
}

export interface LedgerView {
  spentMicro: number;
  reservedMicro: number;
  /** Rows settled or still reserved (released rows count nowhere). */
  requests: number;
  /** The row the gateway named in `x-gateway-request-id`, when the client got one. */
  row: { state: string; verified: boolean | null; settledMicro: number | null; outcome: string | null } | undefined;
}

export async function ledgerOf(stores: Stores, keyId: string, gatewayId: string | undefined): Promise<LedgerView> {
  const [usage] = await stores.ledger.usageGrid({ keyId, dimensions: [] });
  const row = gatewayId === undefined ? null : await stores.ledger.get(gatewayId);
  return {
    spentMicro: usage?.spentMicro ?? 0,
    reservedMicro: usage?.reservedMicro ?? 0,
    requests: usage?.requests ?? 0,
    row: row ? { state: row.state, verified: row.verified, settledMicro: row.settledMicro, outcome: row.outcome } : undefined,
  };
}

/** How many POSTs carrying `hint` reached the sim (a second one would be a second generation). */
export function falPostsOf(sim: FalSim, hint: string): number {
  return sim.calls().filter((c) => c.method === 'POST' && c.headers['x-fal-runner-hint'] === hint).length;
}

/** What the sim billed, in micro-USD, for every call that carried `hint`. */
export function billOf(sim: FalSim, hint: string, microUsdPerMegapixel: number): number {
  const byRequest = sim.stats().billedByRequest;
  let micro = 0;
  const seen = new Set<string>();
  for (const call of sim.calls()) {
    if (call.headers['x-fal-runner-hint'] !== hint || call.requestId === undefined || seen.has(call.requestId)) continue;
    seen.add(call.requestId);
    const units = byRequest[call.requestId];
    if (units !== undefined) micro += costOfBillableUnits(String(units), microUsdPerMegapixel) ?? 0;
  }
  return micro;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
