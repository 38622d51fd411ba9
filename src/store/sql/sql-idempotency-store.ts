/**
 * IdempotencyStore on SQLite or Postgres (sql-plan.ts). Replies are keyed by ledger row; the
 * idempotency keys themselves live on the ledger rows (ledger_entries.idempotency_key).
 */
import type { IdempotencyStore, StoredResponse } from '../ledger-store.js';
import { instant, unknownRow } from '../ledger-rules.js';
import { first, query, sql, type Plan, type SqlDb } from './sql-plan.js';

const Q = {
  // DO NOTHING: the first reply is the one replayed, even if a racing handler saves a second.
  insert: sql(
    `INSERT INTO idempotency_responses (ledger_id, status_code, headers, body, stored_at) VALUES (@ledgerId, @statusCode, @headers::jsonb, @body, @at)
     ON CONFLICT (ledger_id) DO NOTHING`,
  ),
  select: sql('SELECT status_code, headers::text AS headers, body FROM idempotency_responses WHERE ledger_id = @ledgerId'),
  dropReplies: sql(
    `DELETE FROM idempotency_responses WHERE stored_at < @before
       OR ledger_id IN (SELECT id FROM ledger_entries WHERE idempotency_key IS NOT NULL AND created_at < @before)`,
  ),
  forgetKeys: sql('UPDATE ledger_entries SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND created_at < @before'),
};

interface ResponseRow {
  status_code: number;
  headers: string;
  body: Buffer;
}

/** The replies go first, while their rows still carry the keys that select them. */
function* expirePlan(before: string): Plan<number> {
  yield* query(Q.dropReplies, { before });
  return (yield* query(Q.forgetKeys, { before })).count;
}

export class SqlIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: SqlDb) {}

  async saveResponse(ledgerId: string, response: StoredResponse, at: string): Promise<void> {
    const params = { ledgerId, statusCode: response.statusCode, headers: JSON.stringify(response.headers), body: response.body, at: instant(at) };
    try {
      await this.db.write(query(Q.insert, params));
    } catch (err) {
      throw this.db.isForeignKeyViolation(err) ? unknownRow(ledgerId) : err;
    }
  }

  async getResponse(ledgerId: string): Promise<StoredResponse | null> {
    const row = await this.db.run(first<ResponseRow>(Q.select, { ledgerId }));
    return row ? { statusCode: row.status_code, headers: JSON.parse(row.headers) as Record<string, string>, body: row.body } : null;
  }

  /** One transaction: the keys are forgotten and their replies dropped atomically. */
  expire(before: string): Promise<number> {
    return this.db.transaction(expirePlan(instant(before)));
  }
}
