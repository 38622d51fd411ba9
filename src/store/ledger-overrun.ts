/**
 * Overrun watch: a settlement above its reservation (LedgerRow.overrun) means fal billed more than
 * the upper bound the gateway reserved, so a budget may be exceeded by the difference. Every row
 * keeps the fact (derived, and counted in usage reports); this decorator also reports each one as
 * it happens, for the log and for metrics. It adds nothing to the settle path: the row is read
 * after the settle has committed, without being awaited (only for non-zero amounts), and a failed
 * read is reported, never thrown.
 */
import type { LedgerRow, LedgerStore, SettleInput } from './ledger-store.js';

export interface OverrunHooks {
  onOverrun(row: LedgerRow): void;
  onCheckFailed(id: string, err: unknown): void;
}

export function watchOverruns(inner: LedgerStore, hooks: OverrunHooks): LedgerStore {
  const check = (id: string): void => {
    inner.get(id).then(
      (row) => {
        if (row?.overrun) hooks.onOverrun(row);
      },
      (err: unknown) => hooks.onCheckFailed(id, err),
    );
  };
  return {
    reserve: (input) => inner.reserve(input),
    attachFalRequestId: (id, falRequestId) => inner.attachFalRequestId(id, falRequestId),
    markSent: (id, deadlineAt) => inner.markSent(id, deadlineAt),
    async settle(id: string, input: SettleInput) {
      const settled = await inner.settle(id, input);
      if (settled && input.amountMicro > 0) check(id);
      return settled;
    },
    release: (id, input) => inner.release(id, input),
    get: (id) => inner.get(id),
    findByFalRequestId: (falRequestId) => inner.findByFalRequestId(falRequestId),
    findByIdempotencyKey: (keyId, key) => inner.findByIdempotencyKey(keyId, key),
    pending: (limit) => inner.pending(limit),
    counterTotals: (refs) => inner.counterTotals(refs),
    usage: (query) => inner.usage(query),
  };
}

interface WarnLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** The log side of the watch: one warn line per overrun, with what an operator needs to follow it. */
export function logOverruns(log: WarnLog): OverrunHooks {
  return {
    onOverrun: (row) =>
      log.warn(
        {
          ledger_id: row.id,
          key_id: row.keyId,
          team: row.team,
          fal_request_id: row.falRequestId,
          quoted_micro: row.quotedMicro,
          settled_micro: row.settledMicro,
          overrun_micro: (row.settledMicro ?? 0) - row.quotedMicro,
          settle_source: row.settleSource,
        },
        'ledger overrun: fal billed more than was reserved',
      ),
    onCheckFailed: (id, err) => log.warn({ err, ledger_id: id }, 'ledger overrun check failed'),
  };
}
