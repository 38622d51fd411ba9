/**
 * Spend, megapixels and unverified settlements, counted where they become facts: a `settle` that
 * the ledger accepted (true: this call moved the row from reserved to settled, so a second settle
 * of the same row counts nothing). The ledger store is wrapped in app.ts, so every settling path
 * (sync runs, queue results, the reconciler, start-up recovery, held retries) is counted without
 * touching the pipeline. What a row is (key, team, megapixels) is remembered from its reservation;
 * a row reserved by another instance (the reconciler settling it here) is read once from the ledger.
 */
import { LRUCache } from 'lru-cache';
import type { LedgerStore, SettleInput } from '../store/ledger-store.js';
import type { GatewayMetrics } from './metrics.js';

interface RowFacts {
  keyId: string;
  team: string | null;
  megapixels: number;
}

/** Rows reserved and not yet settled on this instance; bounded (a miss costs one ledger read). */
const REMEMBERED_ROWS = 50_000;

export interface MeteredLedgerLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export function meteredLedger(inner: LedgerStore, metrics: GatewayMetrics, log: MeteredLedgerLog): LedgerStore {
  const rows = new LRUCache<string, RowFacts>({ max: REMEMBERED_ROWS });

  const count = async (id: string, input: SettleInput): Promise<void> => {
    let facts = rows.get(id);
    rows.delete(id);
    if (facts === undefined) {
      const row = await inner.get(id);
      if (row === null) return;
      facts = { keyId: row.keyId, team: row.team, megapixels: row.requestedMegapixels };
    }
    const labels = { key_id: facts.keyId, team: facts.team ?? '' };
    metrics.spend.inc(labels, input.amountMicro);
    metrics.megapixels.inc(labels, facts.megapixels);
    metrics.settlements.inc({ source: input.source });
    if (!input.verified) metrics.unverified.inc();
  };

  const reserve: LedgerStore['reserve'] = async (input) => {
    const result = await inner.reserve(input);
    if (result.ok) rows.set(result.row.id, { keyId: input.keyId, team: input.team, megapixels: input.requestedMegapixels });
    return result;
  };
  const settle: LedgerStore['settle'] = async (id, input) => {
    const settled = await inner.settle(id, input);
    if (settled) {
      // The settlement stands whatever happens here: a failed count is logged, never thrown.
      await count(id, input).catch((err: unknown) => log.warn({ err, ledger_id: id }, 'metrics: could not count a settlement'));
    }
    return settled;
  };
  const release: LedgerStore['release'] = async (id, input) => {
    const released = await inner.release(id, input);
    rows.delete(id);
    return released;
  };
  const overrides: Partial<LedgerStore> = { reserve, settle, release };

  // A Proxy, so every other method (and any the store gains) passes through unchanged.
  return new Proxy(inner, {
    get(target, prop) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof LedgerStore];
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
