/**
 * Gauges read from the shared database at scrape time: budget remaining (and its limit) per key and
 * team that has a budget, and the reservations in flight. They are global facts, the same on every
 * instance, so a dashboard aggregates them with max or avg (a sum would count each once per
 * instance). Computed from the store methods the pipeline already uses (keys list, teams list,
 * ledger.counterTotals, ledger.pending) and cached for SNAPSHOT_MS, with one read in flight at a time,
 * so a scrape storm costs at most one set of queries per SNAPSHOT_MS.
 */
import { Gauge } from 'prom-client';
import { dayBucket, monthBucket, type BudgetLimits, type BudgetPeriod } from '../domain/budgets.js';
import type { Stores } from '../store/stores.js';
import type { GatewayMetrics } from './metrics.js';

/** How long one read of the database serves scrapes. */
export const SNAPSHOT_MS = 5_000;
/** The in-flight gauge counts at most this many rows (it reads them): beyond, it reads the cap. */
export const IN_FLIGHT_CAP = 10_000;

interface BudgetValue {
  scope: 'key' | 'team';
  id: string;
  period: BudgetPeriod;
  limitMicro: number;
  remainingMicro: number;
}

interface Snapshot {
  budgets: BudgetValue[];
  inFlight: number;
}

export interface GaugeLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

function limited(scope: 'key' | 'team', id: string, limits: BudgetLimits, at: Date): { scope: 'key' | 'team'; id: string; period: BudgetPeriod; bucket: string; limitMicro: number }[] {
  const periods: [BudgetPeriod, number | null, string][] = [
    ['lifetime', limits.lifetime, 'all'],
    ['day', limits.day, dayBucket(at)],
    ['month', limits.month, monthBucket(at)],
  ];
  return periods.flatMap(([period, limitMicro, bucket]) => (limitMicro === null ? [] : [{ scope, id, period, bucket, limitMicro }]));
}

async function readSnapshot(stores: Stores, at: Date): Promise<Snapshot> {
  const [keys, teams] = await Promise.all([stores.keys.list(), stores.teams.list()]);
  const wanted = [
    // A revoked key can spend nothing more: its remaining budget is no longer a fact worth alerting on.
    ...keys
      .filter((k) => k.revokedAt === null)
      .flatMap((k) => limited('key', k.id, { lifetime: k.budgetMicroUsd, day: k.budgetDailyMicroUsd, month: k.budgetMonthlyMicroUsd }, at)),
    ...teams.flatMap((t) => limited('team', t.name, { lifetime: t.budgetMicroUsd, day: t.budgetDailyMicroUsd, month: t.budgetMonthlyMicroUsd }, at)),
  ];
  const totals = wanted.length === 0 ? [] : await stores.ledger.counterTotals(wanted.map((w) => ({ scope: `${w.scope}:${w.id}`, bucket: w.bucket })));
  const budgets = wanted.map((w, i) => {
    const t = totals[i] ?? { spentMicro: 0, reservedMicro: 0 };
    // Same rule as a refusal's `remaining`: spent above the limit reads 0, never negative.
    return { scope: w.scope, id: w.id, period: w.period, limitMicro: w.limitMicro, remainingMicro: Math.max(0, w.limitMicro - t.spentMicro - t.reservedMicro) };
  });
  const inFlight = (await stores.ledger.pending(IN_FLIGHT_CAP)).length;
  return { budgets, inFlight };
}

export function registerBudgetGauges(metrics: GatewayMetrics, stores: Stores, now: () => Date, log: GaugeLog): void {
  let cached: { at: number; snap: Snapshot } | undefined;
  let reading: Promise<Snapshot | undefined> | undefined;
  const snapshot = (): Promise<Snapshot | undefined> => {
    const t = now().getTime();
    if (cached && t - cached.at < SNAPSHOT_MS) return Promise.resolve(cached.snap);
    reading ??= readSnapshot(stores, now())
      .then(
        (snap) => {
          cached = { at: t, snap };
          return snap;
        },
        (err: unknown) => {
          // The database is down: the gauges are left out rather than reporting stale or zero values.
          log.warn({ err }, 'metrics: could not read budgets from the store');
          return undefined;
        },
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  const budgetGauge = (name: string, help: string, scope: 'key' | 'team', label: 'key_id' | 'team', field: 'remainingMicro' | 'limitMicro') =>
    new Gauge({
      name,
      help,
      labelNames: [label, 'period'] as const,
      registers: [metrics.registry],
      async collect() {
        const snap = await snapshot();
        this.reset();
        for (const b of snap?.budgets ?? []) if (b.scope === scope) this.set({ [label]: b.id, period: b.period }, b[field]);
      },
    });
  budgetGauge('gateway_key_budget_remaining_micro_usd', 'Budget left (limit − spent − reserved, at least 0) of each key with a budget, per period', 'key', 'key_id', 'remainingMicro');
  budgetGauge('gateway_key_budget_limit_micro_usd', 'Budget limit of each key with a budget, per period', 'key', 'key_id', 'limitMicro');
  budgetGauge('gateway_team_budget_remaining_micro_usd', 'Budget left of each team with a budget, per period', 'team', 'team', 'remainingMicro');
  budgetGauge('gateway_team_budget_limit_micro_usd', 'Budget limit of each team with a budget, per period', 'team', 'team', 'limitMicro');
  new Gauge({
    name: 'gateway_reservations_in_flight',
    help: `Ledger rows still reserved (generations in flight, across all instances; capped at ${IN_FLIGHT_CAP})`,
    registers: [metrics.registry],
    async collect() {
      const snap = await snapshot();
      this.reset();
      // remove(): no sample at all while the store is unreachable, rather than a false 0.
      if (snap) this.set(snap.inFlight);
      else this.remove();
    },
  });
}
