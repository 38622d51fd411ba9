/**
 * Budget thresholds: after a settlement, the key's and its team's counters (ledger.counterTotals)
 * are compared with each budget they have, per period (lifetime, UTC day, UTC month): the budgets
 * the reservation read in its transaction when this instance made it, else the key and team rows. Each threshold
 * crossed is claimed in the shared database (alert_claims), and only the instance whose claim wins
 * sends it, so an alert goes out once per threshold and period however many instances settle.
 * Spend counts settled micro-USD only: a reservation may still be released.
 */
import { LRUCache } from 'lru-cache';
import { dayBucket, monthBucket, type BudgetLimits, type BudgetPeriod } from '../domain/budgets.js';
import type { Stores } from '../store/stores.js';
import type { Alert } from './alert.js';

interface Budget {
  scope: string;
  period: BudgetPeriod;
  bucket: string;
  limitMicro: number;
}

/** Claims this instance already knows are taken (by it or another): no insert is tried again. */
const KNOWN_CLAIMS = 10_000;

function budgets(scope: string, limits: BudgetLimits, at: Date): Budget[] {
  const all: [BudgetPeriod, number | null, string][] = [
    ['lifetime', limits.lifetime, 'all'],
    ['day', limits.day, dayBucket(at)],
    ['month', limits.month, monthBucket(at)],
  ];
  return all.flatMap(([period, limitMicro, bucket]) => (limitMicro === null || limitMicro <= 0 ? [] : [{ scope, period, bucket, limitMicro }]));
}

/**
 * The key's and team's budgets as the reservation read them in its own transaction (null: no such
 * row): a settlement on the instance that reserved it is checked without reading them again.
 */
export interface KnownLimits {
  key: BudgetLimits | null;
  team: BudgetLimits | null;
}

export class BudgetAlerts {
  private readonly known = new LRUCache<string, true>({ max: KNOWN_CLAIMS });

  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'teams' | 'ledger' | 'alertClaims'>,
    private readonly thresholds: readonly number[],
    private readonly send: (alert: Alert) => void,
    private readonly now: () => Date,
  ) {}

  /** Scopes with a check in flight, and whether another settlement came in meanwhile. */
  private readonly inFlight = new Map<string, { again: boolean; at: Date; limits: KnownLimits | undefined }>();

  /**
   * Checks the budgets of `keyId` and `team` (if any) in the buckets of `at` (the row's reservation
   * time: its counters are in those buckets); sends what this instance claimed. One check per key at
   * a time: settlements arriving meanwhile fold into one more check after it, so a hot key costs
   * a bounded number of reads whatever its request rate.
   */
  async evaluate(keyId: string, team: string | null, at: Date, limits?: KnownLimits): Promise<void> {
    if (this.thresholds.length === 0) return;
    const id = `${keyId}|${team ?? ''}`;
    const running = this.inFlight.get(id);
    if (running) {
      running.again = true;
      if (at > running.at) running.at = at;
      running.limits = limits;
      return;
    }
    const state: { again: boolean; at: Date; limits: KnownLimits | undefined } = { again: false, at, limits };
    this.inFlight.set(id, state);
    try {
      do {
        state.again = false;
        await this.check(keyId, team, state.at, state.limits);
      } while (state.again);
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async check(keyId: string, team: string | null, at: Date, known: KnownLimits | undefined): Promise<void> {
    const limits = known ?? (await this.read(keyId, team));
    const wanted: Budget[] = [];
    if (limits.key) wanted.push(...budgets(`key:${keyId}`, limits.key, at));
    if (team !== null && limits.team) wanted.push(...budgets(`team:${team}`, limits.team, at));
    if (wanted.length === 0) return;
    const totals = await this.stores.ledger.counterTotals(wanted.map((b) => ({ scope: b.scope, bucket: b.bucket })));
    for (const [i, b] of wanted.entries()) {
      const spent = totals[i]?.spentMicro ?? 0;
      for (const threshold of this.thresholds) {
        // Integer comparison: spent / limit ≥ threshold / 100, without rounding.
        if (spent * 100 < threshold * b.limitMicro) break;
        const claimId = `${b.scope}|${b.bucket}|${threshold}`;
        if (this.known.has(claimId)) continue;
        const won = await this.stores.alertClaims.claim({ scope: b.scope, bucket: b.bucket, threshold, claimedAt: this.now().toISOString() });
        this.known.set(claimId, true);
        if (won) this.send(this.alert(b, threshold, spent));
      }
    }
  }

  /** The key's and team's budgets from their rows (a settlement whose reservation this instance did not see). */
  private async read(keyId: string, team: string | null): Promise<KnownLimits> {
    const [key, teamRow] = await Promise.all([this.stores.keys.get(keyId), team === null ? null : this.stores.teams.get(team)]);
    return {
      key: key ? { lifetime: key.budgetMicroUsd, day: key.budgetDailyMicroUsd, month: key.budgetMonthlyMicroUsd } : null,
      team: teamRow ? { lifetime: teamRow.budgetMicroUsd, day: teamRow.budgetDailyMicroUsd, month: teamRow.budgetMonthlyMicroUsd } : null,
    };
  }

  private alert(b: Budget, threshold: number, spent: number): Alert {
    const [kind, ...rest] = b.scope.split(':');
    const name = rest.join(':');
    const periodText = b.period === 'lifetime' ? 'lifetime' : `${b.period} ${b.bucket}`;
    return {
      kind: 'budget_threshold',
      summary: `${kind ?? ''} ${name} has spent ${threshold}% of its ${periodText} budget (${spent} of ${b.limitMicro} micro-USD)`,
      details: { scope: kind ?? '', id: name, period: b.period, bucket: b.bucket, threshold, spent_micro: spent, limit_micro: b.limitMicro },
      at: this.now().toISOString(),
    };
  }
}
