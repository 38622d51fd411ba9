/** In-memory IdempotencyStore over the memory ledger, whose rows own the idempotency keys. */
import { attempt, instant, unknownRow } from '../ledger-rules.js';
import type { IdempotencyStore, StoredResponse } from '../ledger-store.js';
import type { MemoryLedgerStore } from './memory-ledger-store.js';

interface Saved {
  response: StoredResponse;
  storedAt: string;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly responses = new Map<string, Saved>();

  constructor(private readonly ledger: MemoryLedgerStore) {}

  /** Keeps the first response: a replay must repeat the first outcome, never a later one. */
  async saveResponse(ledgerId: string, response: StoredResponse, at: string): Promise<void> {
    if ((await this.ledger.get(ledgerId)) === null) throw unknownRow(ledgerId);
    if (this.responses.has(ledgerId)) return;
    this.responses.set(ledgerId, { response: clone(response), storedAt: instant(at) });
  }

  getResponse(ledgerId: string): Promise<StoredResponse | null> {
    const saved = this.responses.get(ledgerId);
    return Promise.resolve(saved ? clone(saved.response) : null);
  }

  expire(before: string): Promise<number> {
    return attempt(() => {
      const cutoff = instant(before);
      const forgotten = this.ledger.forgetIdempotencyKeys(cutoff);
      for (const id of forgotten) this.responses.delete(id);
      for (const [id, saved] of this.responses) if (saved.storedAt < cutoff) this.responses.delete(id);
      return forgotten.length;
    });
  }
}

function clone(r: StoredResponse): StoredResponse {
  return { statusCode: r.statusCode, headers: { ...r.headers }, body: Buffer.from(r.body) };
}
