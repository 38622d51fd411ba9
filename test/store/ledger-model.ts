/**
 * The plain model the ledger property test (ledger-property.test.ts) checks every adapter against:
 * per counter, what has been reserved and spent, computed from the requests alone.
 */
import { expect } from 'vitest';
import { countersFor, NO_LIMITS, type BudgetLimits, type CounterRef } from '../../src/domain/budgets.js';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { UNIT } from './ledger-fixtures.js';

/** Instants either side of a UTC day and month boundary. */
export const TIMES = ['2026-01-31T23:59:59.999Z', '2026-02-01T00:00:00.000Z', '2026-02-01T12:00:00.000Z', '2026-02-28T23:59:59.999Z', '2026-03-01T00:00:00.000Z'];
/** Three keys: two in one team, one without a team. */
export const WHO = [
  { key: 'a', team: true },
  { key: 'b', team: true },
  { key: 'c', team: false },
];

export type Outcome = { kind: 'settle'; percent: number } | { kind: 'release' };

export interface Req {
  who: number;
  /** Quoted megapixels; the quote is units × UNIT. */
  units: number;
  time: number;
  outcome: Outcome;
}

export interface Scenario {
  keyLimits: BudgetLimits;
  teamLimits: BudgetLimits;
  requests: Req[];
  /** Drives the interleaving: how many operations go together, and which. */
  choices: number[];
}

export const timeOf = (r: Pick<Req, 'time'>): string => TIMES[r.time] ?? '2026-02-01T00:00:00.000Z';

export const id = (c: Pick<CounterRef, 'scope' | 'bucket'>): string => `${c.scope}|${c.bucket}`;

/** One property execution: its own key and team names, so runs share a database without interfering. */
export class Run {
  readonly model = new Map<string, { spentMicro: number; reservedMicro: number; limitMicro: number | null }>();
  readonly settledByKey = new Map<string, number>();
  private readonly allRefs: CounterRef[];

  constructor(
    readonly tag: string,
    readonly sc: Scenario,
  ) {
    const refs = TIMES.flatMap((_, time) => WHO.flatMap((__, who) => this.counters({ who, units: 1, time, outcome: { kind: 'release' } })));
    for (const ref of refs) this.model.set(id(ref), { spentMicro: 0, reservedMicro: 0, limitMicro: ref.limitMicro });
    this.allRefs = [...new Map(refs.map((ref) => [id(ref), ref])).values()];
  }

  keyId(r: Req): string {
    return `${this.tag}-${WHO[r.who]?.key ?? 'x'}`;
  }

  team(r: Req): string | null {
    return WHO[r.who]?.team === true ? `${this.tag}-t` : null;
  }

  counters(r: Req): CounterRef[] {
    const teamLimits: BudgetLimits = this.team(r) === null ? NO_LIMITS : this.sc.teamLimits;
    return countersFor(this.keyId(r), this.sc.keyLimits, this.team(r), teamLimits, new Date(timeOf(r)));
  }

  /** The model's answer for a reservation made alone: the first counter (key before team; lifetime, day, month) that does not fit. */
  predict(r: Req): CounterRef | null {
    return this.counters(r).find((c) => {
      const m = this.model.get(id(c));
      return c.limitMicro !== null && m !== undefined && m.spentMicro + m.reservedMicro + r.units * UNIT > c.limitMicro;
    }) ?? null;
  }

  move(r: Req, reservedDelta: number, spentDelta: number): void {
    for (const c of this.counters(r)) {
      const m = this.model.get(id(c));
      if (!m) throw new Error(`model has no counter ${id(c)}`);
      m.reservedMicro += reservedDelta;
      m.spentMicro += spentDelta;
    }
    if (spentDelta > 0) this.settledByKey.set(this.keyId(r), (this.settledByKey.get(this.keyId(r)) ?? 0) + spentDelta);
  }

  async check(ledger: LedgerStore): Promise<void> {
    const totals = await ledger.counterTotals(this.allRefs);
    this.allRefs.forEach((ref, i) => {
      const m = this.model.get(id(ref));
      expect(totals[i], id(ref)).toEqual({ spentMicro: m?.spentMicro, reservedMicro: m?.reservedMicro });
      if (ref.limitMicro !== null) expect((totals[i]?.spentMicro ?? 0) + (totals[i]?.reservedMicro ?? 0)).toBeLessThanOrEqual(ref.limitMicro);
    });
  }
}

export function amount(r: Req): number {
  return r.outcome.kind === 'settle' ? Math.floor((r.units * UNIT * r.outcome.percent) / 100) : 0;
}
