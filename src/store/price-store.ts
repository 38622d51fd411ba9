/**
 * fal's price for an endpoint as the gateway last read it from the pricing API (PRICE_SOURCE=fal):
 * one row per endpoint in the shared database, written by whichever instance refreshed last and
 * read by every instance for its new quotes (services/price-source.ts). On SQLite or Postgres.
 */
export interface StoredPrice {
  endpointId: string;
  /** fal's unit string, as given ("megapixels"). */
  unit: string;
  /** The price in integer µUSD per unit (what quotes and settlements use). */
  microUsdPerUnit: number;
  /** fal's unit_price exactly as it answered (a decimal string), for the record. */
  falUnitPrice: string;
  fetchedAt: string;
}

export interface PriceStore {
  get(endpointId: string): Promise<StoredPrice | null>;
  /** Replaces the endpoint's row. */
  put(price: StoredPrice): Promise<void>;
}
