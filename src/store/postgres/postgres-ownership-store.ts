/** OwnershipStore on PostgreSQL, shared by every gateway instance. */
import type { OwnershipRecord, OwnershipStore } from '../ownership-store.js';
import { ownerConflict } from '../ownership-store.js';
import type { PgPool } from './postgres-database.js';

export class PostgresOwnershipStore implements OwnershipStore {
  constructor(private readonly pool: PgPool) {}

  /**
   * INSERT … ON CONFLICT DO NOTHING waits for a concurrent insert of the same id to commit, so one
   * writer wins. The read-back is a separate statement on purpose: under READ COMMITTED it takes a
   * fresh snapshot and sees the winner, which a single CTE statement's snapshot could miss.
   */
  async record(rec: OwnershipRecord): Promise<void> {
    const inserted = await this.pool.query({
      name: 'fgw_owner_record',
      text: 'INSERT INTO request_owners (request_id, key_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (request_id) DO NOTHING',
      values: [rec.requestId, rec.keyId, rec.createdAt],
    });
    if (inserted.rowCount === 1) return;
    if ((await this.ownerOf(rec.requestId)) !== rec.keyId) throw ownerConflict(rec.requestId);
  }

  async ownerOf(requestId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ key_id: string }>({
      name: 'fgw_owner_of',
      text: 'SELECT key_id FROM request_owners WHERE request_id = $1',
      values: [requestId],
    });
    return rows[0]?.key_id ?? null;
  }
}
