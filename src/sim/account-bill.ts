/**
 * fal's side of the money: every billed request with when it was billed and at what price, as the
 * account's usage (docs/fal-protocol.md §4.1) reports it. The CallRecorder's `billedByRequest` is
 * what the sim charged per request; this book is what fal's usage API would show for it, which the
 * "bill twice" fault makes differ for exactly the requests it names.
 */

export interface SimPrice {
  /** USD per unit, as fal's pricing API gives it (a float). */
  unitPrice: number;
  /** fal's unit string; for this model UNCONFIRMED, "megapixels" as seen on other endpoints. */
  unit: string;
}

export interface BillEntry {
  requestId: string;
  endpointId: string;
  units: number;
  /** Epoch ms when the sim billed it (the sim's clock). */
  at: number;
  unitPrice: number;
  unit: string;
}

export const DEFAULT_PRICE: Readonly<SimPrice> = { unitPrice: 0.02, unit: 'megapixels' };

/** A price is finite USD >= 0 per a non-empty unit; a string says what is wrong (code or JSON). */
export function checkPrice(input: unknown): SimPrice | string {
  if (typeof input !== 'object' || input === null) return 'price must be an object';
  const { unitPrice, unit } = input as Record<string, unknown>;
  if (typeof unitPrice !== 'number' || !Number.isFinite(unitPrice) || unitPrice < 0) return 'unitPrice must be a finite number >= 0';
  if (typeof unit !== 'string' || unit === '') return 'unit must be a non-empty string';
  return { unitPrice, unit };
}

export class AccountBill {
  private entries: BillEntry[] = [];
  private twice = new Set<string>();

  constructor(
    private readonly endpointId: string,
    private readonly now: () => number,
    private readonly price: () => SimPrice,
  ) {}

  add(requestId: string, units: number): void {
    const { unitPrice, unit } = this.price();
    this.entries.push({ requestId, endpointId: this.endpointId, units, at: this.now(), unitPrice, unit });
  }

  /** The "bill one request twice" fault: the usage API counts this request's units twice. */
  billTwice(requestId: string): boolean {
    if (!this.entries.some((e) => e.requestId === requestId)) return false;
    this.twice.add(requestId);
    return true;
  }

  /** What the account is charged: each entry once, the doubled ones twice. */
  charged(): BillEntry[] {
    return this.entries.flatMap((e) => (this.twice.has(e.requestId) ? [e, e] : [e]));
  }

  clear(): void {
    this.entries = [];
    this.twice = new Set();
  }
}
