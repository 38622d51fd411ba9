/**
 * What reached the sim and what it billed, so tests can assert on fal's side of the wire
 * (e.g. "one submit, billed once, no Authorization from the client leaked through").
 */
import type { IncomingMessage } from 'node:http';
import type { SimCall, SimStats } from './fal-sim.js';

const MAX_CALLS = 10_000;

function zeroCounts(): SimStats['calls'] {
  return { run: 0, submit: 0, status: 0, stream: 0, result: 0, cancel: 0, file: 0, usage: 0, pricing: 0, keys: 0, other: 0 };
}

export class CallRecorder {
  private log: SimCall[] = [];
  private counts = zeroCounts();
  private billedUnits = 0;
  private billedByRequest = new Map<string, number>();

  /** `onBill` sees each first charge of a request (the account's bill, account-bill.ts). */
  constructor(private readonly onBill: (requestId: string, units: number) => void = () => undefined) {}

  /** Logs one received request; the returned record may get its requestId later. */
  record(op: SimCall['op'], req: IncomingMessage, path: string): SimCall {
    const call: SimCall = { op, method: req.method ?? 'GET', path, headers: { ...req.headers } };
    this.counts[op] += 1;
    this.log.push(call);
    // Trim in batches so the log stays amortised O(1) per call.
    if (this.log.length >= MAX_CALLS + 1000) this.log = this.log.slice(-MAX_CALLS);
    return call;
  }

  /** Records a request's charge; a second call for the same request is ignored (bill once). */
  bill(requestId: string, units: number): void {
    if (this.billedByRequest.has(requestId)) return;
    this.billedByRequest.set(requestId, units);
    this.billedUnits += units;
    this.onBill(requestId, units);
  }

  stats(): SimStats {
    return { calls: { ...this.counts }, billedUnits: this.billedUnits, billedByRequest: Object.fromEntries(this.billedByRequest) };
  }

  calls(): SimCall[] {
    return this.log.slice(-MAX_CALLS).map((c) => ({ ...c, headers: { ...c.headers } }));
  }

  clear(): void {
    this.log = [];
    this.counts = zeroCounts();
    this.billedUnits = 0;
    this.billedByRequest = new Map();
  }
}
