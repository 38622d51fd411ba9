/** PriceStore on SQLite or Postgres (sql-plan.ts); migration 17 made fal_prices. */
import { instant } from '../ledger-rules.js';
import type { PriceStore, StoredPrice } from '../price-store.js';
import { first, query, sql, type SqlDb } from './sql-plan.js';

const GET = sql('SELECT endpoint_id, unit, micro_usd_per_unit, fal_unit_price, fetched_at FROM fal_prices WHERE endpoint_id = @endpointId');
const PUT = sql(
  `INSERT INTO fal_prices (endpoint_id, unit, micro_usd_per_unit, fal_unit_price, fetched_at) VALUES (@endpointId, @unit, @micro, @falUnitPrice, @fetchedAt)
   ON CONFLICT (endpoint_id) DO UPDATE SET unit = excluded.unit, micro_usd_per_unit = excluded.micro_usd_per_unit,
     fal_unit_price = excluded.fal_unit_price, fetched_at = excluded.fetched_at`,
);

interface PriceRow {
  endpoint_id: string;
  unit: string;
  micro_usd_per_unit: number;
  fal_unit_price: string;
  fetched_at: string;
}

export class SqlPriceStore implements PriceStore {
  constructor(private readonly db: SqlDb) {}

  async get(endpointId: string): Promise<StoredPrice | null> {
    const r = await this.db.run(first<PriceRow>(GET, { endpointId }));
    if (r === undefined) return null;
    return { endpointId: r.endpoint_id, unit: r.unit, microUsdPerUnit: Number(r.micro_usd_per_unit), falUnitPrice: r.fal_unit_price, fetchedAt: instant(r.fetched_at) };
  }

  async put(p: StoredPrice): Promise<void> {
    await this.db.run(query(PUT, { endpointId: p.endpointId, unit: p.unit, micro: p.microUsdPerUnit, falUnitPrice: p.falUnitPrice, fetchedAt: instant(p.fetchedAt) }));
  }
}
