/** OwnershipStore on SQLite or Postgres (sql-plan.ts). */
import { ownerConflict, type OwnershipRecord, type OwnershipStore } from '../ownership-store.js';
import { first, query, sql, type Plan, type SqlDb } from './sql-plan.js';

// The column is still called key_id: it holds the owner, a key id or `<key id>/<token id>`.
const Q = {
  insert: sql(
    `INSERT INTO request_owners (request_id, key_id, created_at) VALUES (@requestId, @ownerId, @createdAt)
     ON CONFLICT (request_id) DO NOTHING`,
  ),
  owner: sql('SELECT key_id FROM request_owners WHERE request_id = @requestId'),
};

/**
 * Records an owner: INSERT … ON CONFLICT DO NOTHING, then, if another writer won, a read-back in a
 * separate statement: under READ COMMITTED it takes a fresh snapshot and sees the winner, which
 * one CTE statement's snapshot could miss. Also run inside the ledger's attach transaction.
 */
export function* recordOwner(rec: OwnershipRecord): Plan<void> {
  const inserted = yield* query(Q.insert, { requestId: rec.requestId, ownerId: rec.ownerId, createdAt: rec.createdAt });
  if (inserted.count === 1) return;
  const owner = yield* first<{ key_id: string }>(Q.owner, { requestId: rec.requestId });
  if (owner?.key_id !== rec.ownerId) throw ownerConflict(rec.requestId);
}

export class SqlOwnershipStore implements OwnershipStore {
  constructor(private readonly db: SqlDb) {}

  record(rec: OwnershipRecord): Promise<void> {
    return this.db.run(recordOwner(rec));
  }

  async ownerOf(requestId: string): Promise<string | null> {
    return (await this.db.run(first<{ key_id: string }>(Q.owner, { requestId })))?.key_id ?? null;
  }
}
