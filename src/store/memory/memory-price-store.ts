/** In-memory PriceStore: the twin the contract suite and unit tests use. */
import type { PriceStore, StoredPrice } from '../price-store.js';

export class MemoryPriceStore implements PriceStore {
  private readonly prices = new Map<string, StoredPrice>();

  get(endpointId: string): Promise<StoredPrice | null> {
    const p = this.prices.get(endpointId);
    return Promise.resolve(p === undefined ? null : { ...p });
  }

  put(price: StoredPrice): Promise<void> {
    this.prices.set(price.endpointId, { ...price });
    return Promise.resolve();
  }
}
