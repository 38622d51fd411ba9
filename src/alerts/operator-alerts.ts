/**
 * The gateway's operator alerts, composed around the pipeline in app.ts so no pipeline file knows
 * about them: budget thresholds after each settlement (a ledger wrapper; the check runs in the
 * background, after the settlement and never before the client's answer), fal refusing FAL_KEY (an
 * upstream wrapper; at most once per AUTH_EVERY_MS per instance), settlement overruns (the
 * context's onOverrun) and a reconciler backlog (rows past their deadline at a pass).
 */
import { LRUCache } from 'lru-cache';
import type { AlertConfig } from '../config.js';
import type { Overrun } from '../store/ledger-overrun.js';
import type { ReconciliationBucket } from '../store/reconciliation-store.js';
import type { LedgerStore } from '../store/ledger-store.js';
import type { Stores } from '../store/stores.js';
import type { FalUpstream } from '../upstream/fal-upstream.js';
import type { Alert } from './alert.js';
import { AlertSender, type AlertLog } from './alert-sender.js';
import { BudgetAlerts, type KnownLimits } from './budget-alerts.js';

interface RowFacts {
  keyId: string;
  team: string | null;
  at: string;
  /** The budgets the reservation read (freshLimits); absent: read them at the check. */
  limits?: KnownLimits;
}

/** Rows reserved and not yet settled on this instance; bounded (a miss costs one ledger read). */
const REMEMBERED_ROWS = 50_000;

/** A wrong FAL_KEY fails every request: one alert per this long per instance is enough. */
export const AUTH_EVERY_MS = 5 * 60_000;

export class OperatorAlerts {
  readonly sender: AlertSender;
  private readonly budgets: BudgetAlerts;
  private lastAuthAlert = -Infinity;
  private backlogRaised = false;

  constructor(
    private readonly config: AlertConfig,
    stores: Pick<Stores, 'keys' | 'teams' | 'ledger' | 'alertClaims'>,
    private readonly log: AlertLog,
    private readonly now: () => Date,
    retryBaseMs?: number,
  ) {
    this.sender = new AlertSender(config, log, retryBaseMs);
    this.budgets = new BudgetAlerts(stores, config.thresholds, (a) => this.sender.send(a), now);
  }

  /**
   * The ledger, with a budget check queued after every settlement this call made. Whose row it is
   * (key, team, reservation time) is remembered from its reservation; a row reserved elsewhere (the
   * reconciler settling another instance's row) is read once.
   */
  ledger(inner: LedgerStore): LedgerStore {
    const rows = new LRUCache<string, RowFacts>({ max: REMEMBERED_ROWS });
    const check = async (id: string): Promise<void> => {
      let facts = rows.get(id);
      rows.delete(id);
      if (facts === undefined) {
        const row = await inner.get(id);
        if (row === null) return;
        facts = { keyId: row.keyId, team: row.team, at: row.createdAt };
      }
      await this.budgets.evaluate(facts.keyId, facts.team, new Date(facts.at), facts.limits);
    };
    const overrides: Partial<LedgerStore> = {
      reserve: async (input) => {
        const result = await inner.reserve(input);
        if (result.ok) {
          const { fresh } = result;
          const limits = fresh && { key: { lifetime: fresh.key.budgetMicroUsd, day: fresh.key.budgetDailyMicroUsd, month: fresh.key.budgetMonthlyMicroUsd }, team: fresh.team };
          rows.set(result.row.id, { keyId: input.keyId, team: input.team, at: input.at, ...(limits ? { limits } : {}) });
        }
        return result;
      },
      settle: async (id, input) => {
        const settled = await inner.settle(id, input);
        // Not awaited: the settlement (and the client's answer) never waits for the check.
        if (settled) void check(id).catch((err: unknown) => this.log.warn({ err, ledger_id: id }, 'alerts: could not check budgets after a settlement'));
        return settled;
      },
      release: async (id, input) => {
        const released = await inner.release(id, input);
        rows.delete(id);
        return released;
      },
    };
    return new Proxy(inner, {
      get(target, prop) {
        if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof LedgerStore];
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** fal's client, with an alert when fal refuses the gateway's own key (401/403). */
  upstream(inner: FalUpstream): FalUpstream {
    return {
      request: async (req) => {
        const res = await inner.request(req);
        if (res.statusCode === 401 || res.statusCode === 403) this.authFailed(res.statusCode);
        return res;
      },
      close: () => inner.close(),
    };
  }

  overrun(o: Overrun): void {
    this.emit('settlement_overrun', `ledger row ${o.ledgerId} of key ${o.keyId} settled at ${o.settledMicro} micro-USD, ${o.settledMicro - o.quotedMicro} above its reservation`, {
      ledger_id: o.ledgerId,
      key_id: o.keyId,
      quoted_micro: o.quotedMicro,
      settled_micro: o.settledMicro,
      billed_units: o.billedUnits,
    });
  }

  /** Called each reconciler pass with the rows past their deadline; alerts on rising above the threshold. */
  backlog(overdue: number): void {
    const above = overdue > this.config.backlogThreshold;
    if (above && !this.backlogRaised) {
      this.emit('reconciler_backlog', `${overdue} ledger rows are reserved past their deadline (threshold ${this.config.backlogThreshold})`, { overdue, threshold: this.config.backlogThreshold });
    }
    this.backlogRaised = above;
  }

  /** A bucket where fal's usage and the ledger differ (services/reconciliation.ts; once per new difference). */
  reconciliationDifference(b: ReconciliationBucket): void {
    const named = b.rows.map((r) => r.falRequestId ?? r.ledgerId).slice(0, 5).join(', ');
    this.emit('reconciliation_difference', `fal's usage and the ledger differ in the ${b.size} from ${b.start}: fal − ledger = ${b.diffUnits} unit(s), ${b.diffMicro} micro-USD${named === '' ? '' : ` (rows: ${named})`}`, {
      bucket: b.size,
      start: b.start,
      difference_units: b.diffUnits,
      difference_micro: b.diffMicro,
      fal_units: b.falUnits,
      ledger_units: b.ledgerUnits,
      rows: named === '' ? null : named,
    });
  }

  close(): void {
    this.sender.close();
  }

  private authFailed(status: number): void {
    const t = this.now().getTime();
    if (t - this.lastAuthAlert < AUTH_EVERY_MS) return;
    this.lastAuthAlert = t;
    this.emit('fal_auth_failed', `fal refused the gateway's FAL_KEY (HTTP ${status}): every generation fails until it is fixed`, { fal_status: status });
  }

  private emit(kind: Alert['kind'], summary: string, details: Alert['details']): void {
    this.sender.send({ kind, summary, details, at: this.now().toISOString() });
  }
}
