/** AlertClaimStore on SQLite or Postgres (sql-plan.ts): the primary key decides the one winner. */
import type { AlertClaim, AlertClaimStore } from '../alert-claim-store.js';
import { query, sql, type SqlDb } from './sql-plan.js';

const INSERT = sql(
  `INSERT INTO alert_claims (scope, bucket, threshold, claimed_at) VALUES (@scope, @bucket, @threshold, @claimedAt)
   ON CONFLICT (scope, bucket, threshold) DO NOTHING`,
);

export class SqlAlertClaimStore implements AlertClaimStore {
  constructor(private readonly db: SqlDb) {}

  async claim(c: AlertClaim): Promise<boolean> {
    const result = await this.db.run(query(INSERT, { scope: c.scope, bucket: c.bucket, threshold: c.threshold, claimedAt: c.claimedAt }));
    return result.count === 1;
  }
}
