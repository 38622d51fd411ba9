/** Builders shared by the ledger suites: reservations whose counters come from domain/budgets.ts. */
import { randomUUID } from 'node:crypto';
import { countersFor, NO_LIMITS, type BudgetLimits, type TokenCaps } from '../../src/domain/budgets.js';
import type { LedgerStore, ReleaseInput, ReserveInput, SettleInput, UsageDimension, UsageQuery, UsageTotals } from '../../src/store/ledger-store.js';

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
  endUser?: string | null;
  /** The browser token the request goes through (its caps are the limits checked), if any. */
  token?: TokenCaps | null;
  images?: number;
  inFlightLimits?: { key: number | null; global: number | null };
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
    counters: countersFor(keyId, { ...NO_LIMITS, ...spec.keyLimits }, team, { ...NO_LIMITS, ...spec.teamLimits }, new Date(at), spec.token ?? null),
    idempotencyKey: spec.idempotencyKey ?? null,
    bodyHash: null,
    endUser: spec.endUser ?? null,
    tokenId: spec.token?.tokenId ?? null,
    images: spec.images ?? 1,
    at,
    ...(spec.inFlightLimits ? { inFlightLimits: spec.inFlightLimits } : {}),
  };
}

export function settleInput(amountMicro: number, over: Partial<SettleInput> = {}): SettleInput {
  return { amountMicro, billedUnits: null, source: 'quote', verified: false, outcome: 'ok', httpStatus: 200, at: AT, ...over };
}

export function releaseInput(over: Partial<ReleaseInput> = {}): ReleaseInput {
  return { outcome: 'failed', httpStatus: 500, at: AT, ...over };
}

/** A token's caps (max_usd in micro-USD, max_images). */
export function token(tokenId: string, maxMicroUsd: number | null = null, maxImages: number | null = null): TokenCaps {
  return { tokenId, maxMicroUsd, maxImages };
}

/** The counter refs of a token: its spend, then its image count. */
export function tokenRefs(tokenId: string): { scope: string; bucket: string }[] {
  return [
    { scope: `token:${tokenId}`, bucket: 'all' },
    { scope: `token-images:${tokenId}`, bucket: 'all' },
  ];
}

/** Counter refs (scope, bucket) of one scope at `at`, in lifetime, day, month order. */
export function scopeRefs(scope: string, at: string = AT): { scope: string; bucket: string }[] {
  return [
    { scope, bucket: 'all' },
    { scope, bucket: at.slice(0, 10) },
    { scope, bucket: at.slice(0, 7) },
  ];
}

/**
 * The usage grid's totals by one dimension or none, as `{ group, ...totals }` (`all` without a
 * dimension): what the usage report shows, without the grid's counts of released rows and statuses.
 */
export async function usageTotals(ledger: LedgerStore, q: UsageQuery & { groupBy?: UsageDimension } = {}): Promise<({ group: string } & UsageTotals)[]> {
  const { groupBy, ...filters } = q;
  const rows = await ledger.usageGrid({ ...filters, dimensions: groupBy === undefined ? [] : [groupBy] });
  return rows.map((r) => ({ group: r.groups[0] ?? 'all', requests: r.requests, spentMicro: r.spentMicro, reservedMicro: r.reservedMicro, megapixels: r.megapixels, billedUnits: r.billedUnits, overruns: r.overruns }));
}
