/** The reservation and settlement the store benchmarks (store-layer.ts, hot-key.ts) repeat: one 1 MP image at $0.02. */
import { createHash } from 'node:crypto';
import { countersFor, NO_LIMITS, type BudgetLimits } from '../../src/domain/budgets.js';
import type { NewKey } from '../../src/store/key-store.js';
import type { ReserveInput, SettleInput } from '../../src/store/ledger-store.js';

let seq = 0;

export function benchReservation(keyId: string, team: string | null, keyLimits: Partial<BudgetLimits>, extra: Partial<ReserveInput> = {}): ReserveInput {
  const at = new Date().toISOString();
  return {
    id: `req_${process.pid}_${seq++}`,
    keyId,
    team,
    operation: 'submit',
    quotedMicro: 20_000,
    requestedMegapixels: 1,
    counters: countersFor(keyId, { ...NO_LIMITS, ...keyLimits }, team, NO_LIMITS, new Date(at), null),
    idempotencyKey: null,
    bodyHash: null,
    endUser: null,
    tokenId: null,
    images: 1,
    at,
    ...extra,
  };
}

export function benchSettlement(): SettleInput {
  return { amountMicro: 20_000, billedUnits: 1, source: 'billable_units', verified: true, outcome: 'ok', httpStatus: 200, at: new Date().toISOString() };
}

/** For another checkout's stores (--release=DIR): before issue #12 a counter's limit was `limitMicro`. */
export function forRelease(input: ReserveInput): ReserveInput {
  return { ...input, counters: input.counters.map((c) => Object.assign({ limitMicro: c.limit }, c)) };
}

/** A key row for the hot-key bench: a daily budget no run reaches, so its day counter is checked. */
export function benchKey(id: string): NewKey {
  return {
    id,
    name: id,
    team: null,
    kind: 'secret',
    hash: createHash('sha256').update(id).digest('hex'),
    prefix: id.slice(0, 11),
    budgetMicroUsd: null,
    budgetDailyMicroUsd: 1e15,
    budgetMonthlyMicroUsd: null,
    rpm: null,
    maxConcurrency: null,
    allowedWebhookUrls: [],
    allowedOrigins: [],
    policy: null,
    createdAt: new Date().toISOString(),
  };
}
