/**
 * The failure contract (/work/notes/failure-contract.md, issue #9) as rows: one fault of the
 * simulated fal × one POST operation, and what the client and the ledger must show afterwards.
 * Faults come either from the sim's own prompt triggers (`[sim:hang]`: fal read the body and never
 * answers; `[sim:reset]`: fal's headers and half its body, then a reset; `[sim:429]`; `[sim:error]`:
 * fal's unbilled 500) or from the faulty network in front of it (test/helpers/fault-fal.ts).
 */
import type { WireFault } from '../helpers/fault-fal.js';

export type Op = 'run' | 'submit';
export type Door = 'host' | 'proxy';

/**
 * What the key's ledger must hold once everything settled, against fal's bill for the call:
 * - `released`: nothing charged, nothing reserved, fal billed nothing;
 * - `billed`: charged exactly fal's bill (> 0), confirmed by fal (verified);
 * - `quote-unverified`: charged the quote, flagged unverified (fal may or may not have run it);
 * - `exact`: charged exactly fal's bill (> 0), whether fal confirmed it or the quote matched.
 */
export type LedgerExpectation = 'released' | 'billed' | 'quote-unverified' | 'exact';

export interface Expected {
  /** Acceptable client statuses (a submit may answer a normal handle when fal's id is known). */
  status: number[];
  errorType?: string;
  /** May fal have run (and billed) the call? Then no client may retry the answer by itself. */
  falMayHaveRun: boolean;
  ledger: LedgerExpectation;
}

export interface FaultCase {
  name: string;
  wire: WireFault;
  /** A sim prompt trigger, e.g. `[sim:hang]`. */
  trigger?: string;
  run: Expected;
  submit: Expected;
}

const unknown = (ledger: LedgerExpectation): Expected => ({ status: [500], errorType: 'upstream_outcome_unknown', falMayHaveRun: true, ledger });
const handleOrUnknown = (ledger: LedgerExpectation): Expected => ({ status: [200, 500], falMayHaveRun: true, ledger });
const relayed = (status: number): Expected => ({ status: [status], falMayHaveRun: false, ledger: 'released' });
const relay = (status: number): Pick<FaultCase, 'run' | 'submit'> => ({ run: relayed(status), submit: relayed(status) });

export const FAULT_CASES: FaultCase[] = [
  { name: 'fal hangs before reading the body', wire: 'hang-before-body', run: unknown('quote-unverified'), submit: unknown('quote-unverified') },
  // The sim bills no hung sync run; a hung submit's job still runs and bills (fal accepted it).
  { name: 'fal hangs after reading the body', wire: 'pass', trigger: '[sim:hang]', run: unknown('quote-unverified'), submit: unknown('exact') },
  { name: 'connection reset before headers, fal never ran it', wire: 'reset-before-headers-unsent', run: unknown('quote-unverified'), submit: unknown('quote-unverified') },
  { name: 'connection reset before headers, fal ran it', wire: 'reset-before-headers', run: unknown('exact'), submit: unknown('exact') },
  { name: 'connection reset after headers', wire: 'reset-after-headers', run: unknown('billed'), submit: handleOrUnknown('exact') },
  { name: 'fal resets mid-body', wire: 'pass', trigger: '[sim:reset]', run: unknown('billed'), submit: handleOrUnknown('exact') },
  { name: 'connection cut mid-body on the way', wire: 'reset-mid-body', run: unknown('billed'), submit: handleOrUnknown('exact') },
  { name: 'fal resets before headers after running it', wire: 'pass', trigger: '[sim:reset-before-headers]', run: unknown('exact'), submit: unknown('exact') },
  { name: 'fal answers 429', wire: 'pass', trigger: '[sim:429]', ...relay(429) },
  { name: "fal answers its runner's 500", wire: 'pass', trigger: '[sim:error]', run: relayed(500), submit: { ...relayed(200), ledger: 'released' } },
  { name: 'fal answers a JSON 500', wire: { status: 500, nginx: false }, ...relay(500) },
  { name: 'fal answers a JSON 502', wire: { status: 502, nginx: false }, ...relay(502) },
  { name: 'fal answers an nginx 502', wire: { status: 502, nginx: true }, ...relay(502) },
  { name: 'fal answers a JSON 503', wire: { status: 503, nginx: false }, ...relay(503) },
  { name: 'fal answers an nginx 503', wire: { status: 503, nginx: true }, ...relay(503) },
  { name: 'fal answers a JSON 504', wire: { status: 504, nginx: false }, ...relay(504) },
  { name: 'fal answers an nginx 504', wire: { status: 504, nginx: true }, ...relay(504) },
  // A sync body is relayed untouched (it may be megabytes); fal's billable units still settle it.
  { name: 'fal answers garbage with 200', wire: 'garbage', run: { status: [200], falMayHaveRun: true, ledger: 'billed' }, submit: handleOrUnknown('exact') },
];

export interface Row {
  id: string;
  fault: FaultCase;
  op: Op;
  door: Door;
  expected: Expected;
  /** The client sends the call with an Idempotency-Key and, after its answer, sends it again. */
  retried: boolean;
}

export function allRows(): Row[] {
  const rows: Row[] = [];
  let n = 0;
  for (const fault of FAULT_CASES) {
    for (const op of ['run', 'submit'] as const) {
      for (const door of ['host', 'proxy'] as const) rows.push({ id: `row${n++}`, fault, op, door, expected: fault[op], retried: false });
      // A client retrying a call fal may have run must not cause a second generation or charge.
      if (fault[op].falMayHaveRun) rows.push({ id: `row${n++}`, fault, op, door: 'host', expected: fault[op], retried: true });
    }
  }
  return rows;
}
