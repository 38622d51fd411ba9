/**
 * IdempotencyStore on PostgreSQL. Replies are keyed by ledger row; the idempotency keys themselves
 * live on the ledger rows (ledger_entries.idempotency_key).
 */
import type { IdempotencyStore, StoredResponse } from '../ledger-store.js';
import { instant, unknownRow } from '../ledger-rules.js';
import type { PgPool } from './postgres-database.js';
import { isForeignKeyViolation } from './postgres-transaction.js';

type ResponseRow = { status_code: number; headers: Record<string, string>; body: Buffer };

export class PostgresIdempotencyStore implements IdempotencyStore {
  constructor(private readonly pool: PgPool) {}

  /** DO NOTHING: the first reply is the one replayed, even if a racing handler saves a second. */
  async saveResponse(ledgerId: string, response: StoredResponse, at: string): Promise<void> {
    try {
      await this.pool.query({
        name: 'fgw_idempotency_save',
        text: `INSERT INTO idempotency_responses (ledger_id, status_code, headers, body, stored_at) VALUES ($1, $2, $3::jsonb, $4, $5)
               ON CONFLICT (ledger_id) DO NOTHING`,
        values: [ledgerId, response.statusCode, JSON.stringify(response.headers), response.body, instant(at)],
      });
    } catch (err) {
      throw isForeignKeyViolation(err) ? unknownRow(ledgerId) : err;
    }
  }

  async getResponse(ledgerId: string): Promise<StoredResponse | null> {
    const { rows } = await this.pool.query<ResponseRow>({
      name: 'fgw_idempotency_get',
      text: 'SELECT status_code, headers, body FROM idempotency_responses WHERE ledger_id = $1',
      values: [ledgerId],
    });
    const row = rows[0];
    return row ? { statusCode: row.status_code, headers: row.headers, body: row.body } : null;
  }

  /** One statement: the keys are forgotten and their replies dropped atomically. */
  async expire(before: string): Promise<number> {
    const { rows } = await this.pool.query<{ forgotten: number }>({
      name: 'fgw_idempotency_expire',
      text: `WITH forgotten AS (
               UPDATE ledger_entries SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND created_at < $1 RETURNING id
             ), dropped AS (
               DELETE FROM idempotency_responses WHERE stored_at < $1 OR ledger_id IN (SELECT id FROM forgotten)
             )
             SELECT COUNT(*) AS forgotten FROM forgotten`,
      values: [instant(before)],
    });
    return rows[0]?.forgotten ?? 0;
  }
}
