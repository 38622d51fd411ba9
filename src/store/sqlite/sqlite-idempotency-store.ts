/**
 * IdempotencyStore on the embedded SQLite database. Replies are keyed by ledger row; the
 * idempotency keys themselves live on the ledger rows (ledger_entries.idempotency_key).
 */
import type { IdempotencyStore, StoredResponse } from '../ledger-store.js';
import { attempt, instant, unknownRow } from '../ledger-rules.js';
import type { SqliteDb } from './sqlite-database.js';

interface ResponseRow {
  status_code: number;
  headers: string;
  body: Buffer;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly insert;
  private readonly select;
  private readonly expireTx;

  constructor(db: SqliteDb) {
    // DO NOTHING: the first reply is the one replayed, even if a racing handler saves a second.
    this.insert = db.prepare(
      `INSERT INTO idempotency_responses (ledger_id, status_code, headers, body, stored_at) VALUES (@ledgerId, @statusCode, @headers, @body, @at)
       ON CONFLICT (ledger_id) DO NOTHING`,
    );
    this.select = db.prepare<[string], ResponseRow>('SELECT status_code, headers, body FROM idempotency_responses WHERE ledger_id = ?');
    const dropReplies = db.prepare(
      `DELETE FROM idempotency_responses WHERE stored_at < @before
         OR ledger_id IN (SELECT id FROM ledger_entries WHERE idempotency_key IS NOT NULL AND created_at < @before)`,
    );
    const forgetKeys = db.prepare('UPDATE ledger_entries SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND created_at < @before');
    this.expireTx = db.transaction((before: string): number => {
      dropReplies.run({ before });
      return forgetKeys.run({ before }).changes;
    });
  }

  saveResponse(ledgerId: string, response: StoredResponse, at: string): Promise<void> {
    return attempt(() => {
      try {
        this.insert.run({ ledgerId, statusCode: response.statusCode, headers: JSON.stringify(response.headers), body: response.body, at: instant(at) });
      } catch (err) {
        throw err instanceof Error && 'code' in err && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ? unknownRow(ledgerId) : err;
      }
    });
  }

  getResponse(ledgerId: string): Promise<StoredResponse | null> {
    return attempt(() => {
      const row = this.select.get(ledgerId);
      return row ? { statusCode: row.status_code, headers: JSON.parse(row.headers) as Record<string, string>, body: row.body } : null;
    });
  }

  expire(before: string): Promise<number> {
    return attempt(() => this.expireTx.immediate(instant(before)));
  }
}
