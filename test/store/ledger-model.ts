/**
 * The plain model the ledger property test (ledger-property.test.ts) checks every adapter against:
 * per counter, what has been reserved and spent, computed from the requests alone. Some requests
 * go through a browser token, whose spend and image counters are modelled like the others (the
 * image counter charged the request's image count, spent whole on settle).
 */
import { expect } from 'vitest';
import { countersFor, NO_LIMITS, type BudgetLimits, type CounterRef, type TokenCaps } from '../../src/domain/budgets.js';
import { counterOrder } from '../../src/store/ledger-rules.js';
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
/** Two browser tokens: one minted from key a (in the team), one from key c (no team); indexes into WHO. */
export const TOKEN_PARENTS = [0, 2];

export type Outcome = { kind: 'settle'; percent: number } | { kind: 'release' };

export interface Req {
  /** The key, unless the request goes through a token (then the token's parent key). */
  who: number;
  /** Quoted megapixels; the quote is units × UNIT. */
  units: number;
  /** num_images: what a token's image counter is charged. */
  images: number;
  /** Index into TOKEN_PARENTS / Scenario.tokens, or null for a request made with the key itself. */
  token: number | null;
  time: number;
  outcome: Outcome;
}

export interface TokenLimits {
  maxMicroUsd: number | null;
  maxImages: number | null;
}

export interface Scenario {
  keyLimits: BudgetLimits;
  teamLimits: BudgetLimits;
  tokens: TokenLimits[];
  requests: Req[];
  /** Drives the interleaving: how many operations go together, and which. */
  choices: number[];
}

export const timeOf = (r: Pick<Req, 'time'>): string => TIMES[r.time] ?? '2026-02-01T00:00:00.000Z';

export const id = (c: Pick<CounterRef, 'scope' | 'bucket'>): string => `${c.scope}|${c.bucket}`;

/** What a request charges a counter on reserve: its images on an image counter, else its quote. */
export const charge = (c: CounterRef, r: Req): number => (c.unit === 'images' ? r.images : r.units * UNIT);

/** One property execution: its own key, team and token names, so runs share a database without interfering. */
export class Run {
  readonly model = new Map<string, { spentMicro: number; reservedMicro: number; limit: number | null }>();
  readonly settledByKey = new Map<string, number>();
  readonly allRefs: CounterRef[];

  constructor(
    readonly tag: string,
    readonly sc: Scenario,
  ) {
    const probes: Req[] = TIMES.flatMap((_, time) => [
      ...WHO.map((__, who): Req => ({ who, units: 1, images: 1, token: null, time, outcome: { kind: 'release' } })),
      ...TOKEN_PARENTS.map((who, token): Req => ({ who, units: 1, images: 1, token, time, outcome: { kind: 'release' } })),
    ]);
    const refs = probes.flatMap((r) => this.counters(r));
    for (const ref of refs) this.model.set(id(ref), { spentMicro: 0, reservedMicro: 0, limit: ref.limit });
    this.allRefs = [...new Map(refs.map((ref) => [id(ref), ref])).values()];
  }

  private whoOf(r: Req): number {
    return r.token === null ? r.who : (TOKEN_PARENTS[r.token] ?? 0);
  }

  keyId(r: Req): string {
    return `${this.tag}-${WHO[this.whoOf(r)]?.key ?? 'x'}`;
  }

  team(r: Req): string | null {
    return WHO[this.whoOf(r)]?.team === true ? `${this.tag}-t` : null;
  }

  token(r: Req): TokenCaps | null {
    if (r.token === null) return null;
    const caps = this.sc.tokens[r.token] ?? { maxMicroUsd: null, maxImages: null };
    return { tokenId: `${this.tag}-tok${r.token}`, ...caps };
  }

  counters(r: Req): CounterRef[] {
    const teamLimits: BudgetLimits = this.team(r) === null ? NO_LIMITS : this.sc.teamLimits;
    return countersFor(this.keyId(r), this.sc.keyLimits, this.team(r), teamLimits, new Date(timeOf(r)), this.token(r));
  }

  /** The model's answer for a reservation made alone: the first counter in lock order (ledger-rules.ts) that does not fit. */
  predict(r: Req): CounterRef | null {
    return [...this.counters(r)].sort(counterOrder).find((c) => {
      const m = this.model.get(id(c));
      return c.limit !== null && m !== undefined && m.spentMicro + m.reservedMicro + charge(c, r) > c.limit;
    }) ?? null;
  }

  /** Applies a step to the model: reserve charges each counter, settle and release give it back (settle spends). */
  move(r: Req, step: 'reserve' | 'settle' | 'release'): void {
    for (const c of this.counters(r)) {
      const m = this.model.get(id(c));
      if (!m) throw new Error(`model has no counter ${id(c)}`);
      const q = charge(c, r);
      m.reservedMicro += step === 'reserve' ? q : -q;
      if (step === 'settle') m.spentMicro += c.unit === 'images' ? q : amount(r);
    }
    if (step === 'settle') this.settledByKey.set(this.keyId(r), (this.settledByKey.get(this.keyId(r)) ?? 0) + amount(r));
  }

  /** The store's counters equal the model's, and no limited counter (money or images) holds more than its limit. */
  async check(ledger: LedgerStore): Promise<void> {
    const totals = await ledger.counterTotals(this.allRefs);
    this.allRefs.forEach((ref, i) => {
      const m = this.model.get(id(ref));
      expect(totals[i], id(ref)).toEqual({ spentMicro: m?.spentMicro, reservedMicro: m?.reservedMicro });
      if (ref.limit !== null) expect((totals[i]?.spentMicro ?? 0) + (totals[i]?.reservedMicro ?? 0), id(ref)).toBeLessThanOrEqual(ref.limit);
    });
  }
}

export function amount(r: Req): number {
  return r.outcome.kind === 'settle' ? Math.floor((r.units * UNIT * r.outcome.percent) / 100) : 0;
}
