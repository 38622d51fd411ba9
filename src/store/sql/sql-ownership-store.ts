/** OwnershipStore on SQLite or Postgres (sql-plan.ts). */
import type { OwnershipStore } from '../ownership-store.js';
import { first, sql, type SqlDb } from './sql-plan.js';

/**
 * The owner of a fal request id, in one statement and one round trip:
 * - `request_owners`, first: the owners earlier releases wrote there (its `key_id` column holds
 *   the owner, a key id or `<key id>/<token id>`). Nothing writes it any more, so an answer found
 *   there can never change, whatever is attached later.
 * - else the queue submit's ledger row holding that fal id (unique index `ledger_fal_request_id`):
 *   its key and browser token are the principal that submitted it (pipeline/principal.ts
 *   ownerIdOf). Only `submit` rows: a sync run's fal id, attached by its settlement, is no queue
 *   request of the caller's and stays unknown, as it always was.
 * Each subquery reads at most one row (a primary key, a unique index); COALESCE reads the second
 * only when the first found nothing.
 */
const OWNER = sql(
  `SELECT COALESCE(
     (SELECT key_id FROM request_owners WHERE request_id = @requestId),
     (SELECT CASE WHEN token_id IS NULL THEN key_id ELSE key_id || '/' || token_id END
        FROM ledger_entries WHERE fal_request_id = @requestId AND operation = 'submit')
   ) AS owner`,
);

export class SqlOwnershipStore implements OwnershipStore {
  constructor(private readonly db: SqlDb) {}

  async ownerOf(requestId: string): Promise<string | null> {
    return (await this.db.run(first<{ owner: string | null }>(OWNER, { requestId })))?.owner ?? null;
  }
}
