/** Builders shared by the ledger suites: reservations whose counters come from domain/budgets.ts. */
import { randomUUID } from 'node:crypto';
import { countersFor, NO_LIMITS, type BudgetLimits } from '../../src/domain/budgets.js';
import type { ReleaseInput, ReserveInput, SettleInput } from '../../src/store/ledger-store.js';

/** One megapixel at the default $0.02: the quote of one 1024×1024 image. */
export const UNIT = 20_000;

export const AT = '2026-03-15T12:00:00.000Z';

export interface ReserveSpec {
  id?: string;
  keyId?: string;
  team?: string | null;
  quotedMicro?: number;
  requestedMegapixels?: number;
  keyLimits?: Partial<BudgetLimits>;
  teamLimits?: Partial<BudgetLimits>;
  idempotencyKey?: string | null;
  at?: string;
}

export function reserveInput(spec: ReserveSpec = {}): ReserveInput {
  const keyId = spec.keyId ?? 'key_a';
  const team = spec.team === undefined ? null : spec.team;
  const at = spec.at ?? AT;
  return {
    id: spec.id ?? `req_${randomUUID()}`,
    keyId,
    team,
    operation: 'submit',
    quotedMicro: spec.quotedMicro ?? UNIT,
    requestedMegapixels: spec.requestedMegapixels ?? 1,
    counters: countersFor(keyId, { ...NO_LIMITS, ...spec.keyLimits }, team, { ...NO_LIMITS, ...spec.teamLimits }, new Date(at)),
    idempotencyKey: spec.idempotencyKey ?? null,
    bodyHash: null,
    endUser: null,
    at,
  };
}

export function settleInput(amountMicro: number, over: Partial<SettleInput> = {}): SettleInput {
  return { amountMicro, billedUnits: null, source: 'quote', verified: false, outcome: 'ok', httpStatus: 200, at: AT, ...over };
}

export function releaseInput(over: Partial<ReleaseInput> = {}): ReleaseInput {
  return { outcome: 'failed', httpStatus: 500, at: AT, ...over };
}

/** Counter refs (scope, bucket) of one scope at `at`, in lifetime, day, month order. */
export function scopeRefs(scope: string, at: string = AT): { scope: string; bucket: string }[] {
  return [
    { scope, bucket: 'all' },
    { scope, bucket: at.slice(0, 10) },
    { scope, bucket: at.slice(0, 7) },
  ];
}
