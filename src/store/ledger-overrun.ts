/**
 * Overrun reports: a settlement above its reservation (LedgerRow.overrun) means fal billed more than
 * the upper bound the gateway reserved, so a budget may be exceeded by the difference. Every row
 * keeps the fact (derived, and counted in usage reports); the pipeline also reports each one as it
 * settles (pipeline/accounting.ts), for the log and for metrics. Only a settlement from fal's
 * billable units can exceed the quote, and the caller knows both amounts, so no extra read is made.
 */
export interface Overrun {
  ledgerId: string;
  keyId: string;
  quotedMicro: number;
  settledMicro: number;
  billedUnits: number;
}

export type OverrunHook = (overrun: Overrun) => void;

interface WarnLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** The log side: one warn line per overrun, with what an operator needs to follow it. */
export function logOverruns(log: WarnLog): OverrunHook {
  return (o) =>
    log.warn(
      {
        ledger_id: o.ledgerId,
        key_id: o.keyId,
        quoted_micro: o.quotedMicro,
        settled_micro: o.settledMicro,
        overrun_micro: o.settledMicro - o.quotedMicro,
        billed_units: o.billedUnits,
        settle_source: 'billable_units',
      },
      'ledger overrun: fal billed more than was reserved',
    );
}
