/**
 * Reserve and settle written with Kysely (a typed query builder: one query tree, per-dialect
 * compilers), statement for statement the same as src/store/sql/sql-ledger-store.ts, for the
 * store-layer benchmark (bench/store-layer.ts) only. Refusals are not handled: the benchmark's
 * reservations always fit.
 */
import type Database from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect, type RawBuilder } from 'kysely';
import type pg from 'pg';
import { reserveAmount, reserveCounters, reservedRow, unchargeMoves } from '../../src/store/ledger-rules.js';
import type { ReserveInput, SettleInput } from '../../src/store/ledger-store.js';

interface Tables {
  budget_counters: { scope: string; bucket: string; reserved_micro: number; spent_micro: number };
  ledger_entries: {
    id: string;
    key_id: string;
    team: string | null;
    operation: string;
    idempotency_key: string | null;
    body_hash: string | null;
    state: string;
    quoted_micro: number;
    requested_megapixels: number;
    end_user: string | null;
    token_id: string | null;
    images: number;
    created_at: string;
    outcome: string | null;
    settled_micro: number | null;
    billed_units: number | null;
    settle_source: string | null;
    verified: number | boolean | null;
    http_status: number | null;
    settled_at: string | null;
  };
}

export class KyselyLedger {
  private readonly db: Kysely<Tables>;

  constructor(
    driver: { sqlite: Database.Database } | { pool: pg.Pool },
    private readonly begin = 'sqlite' in driver ? 'BEGIN IMMEDIATE' : 'BEGIN',
  ) {
    const dialect = 'sqlite' in driver ? new SqliteDialect({ database: driver.sqlite }) : new PostgresDialect({ pool: driver.pool });
    this.db = new Kysely<Tables>({ dialect });
  }

  async reserve(input: ReserveInput): Promise<void> {
    const refs = reserveCounters(input);
    const row = reservedRow(input);
    const limits = refs.filter((r) => r.limit !== null).map((r) => sql`WHEN excluded.scope = ${r.scope} AND excluded.bucket = ${r.bucket} THEN CAST(${r.limit} AS BIGINT)`);
    const limit: RawBuilder<number | null> = limits.length === 0 ? sql`NULL` : sql`CASE ${sql.join(limits, sql` `)} ELSE NULL END`;
    await this.inTransaction(async (trx) => {
      await trx
        .insertInto('budget_counters')
        .values(refs.map((r) => ({ scope: r.scope, bucket: r.bucket, reserved_micro: reserveAmount(r, input), spent_micro: 0 })))
        .onConflict((oc) =>
          oc
            .columns(['scope', 'bucket'])
            .doUpdateSet({ reserved_micro: sql`budget_counters.reserved_micro + excluded.reserved_micro` })
            .where(sql<boolean>`COALESCE(budget_counters.spent_micro + budget_counters.reserved_micro + excluded.reserved_micro <= ${limit}, TRUE)`),
        )
        .returning(['scope', 'bucket', 'spent_micro', 'reserved_micro'])
        .execute();
      await trx
        .insertInto('ledger_entries')
        .values({
          id: row.id,
          key_id: row.keyId,
          team: row.team,
          operation: row.operation,
          idempotency_key: row.idempotencyKey,
          body_hash: row.bodyHash,
          state: 'reserved',
          quoted_micro: row.quotedMicro,
          requested_megapixels: row.requestedMegapixels,
          end_user: row.endUser,
          token_id: row.tokenId,
          images: row.images,
          created_at: row.createdAt,
        })
        .onConflict((oc) => oc.columns(['key_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
        .execute();
    });
  }

  async settle(id: string, input: SettleInput, verified: number | boolean): Promise<void> {
    await this.inTransaction(async (trx) => {
      const c = await trx
        .updateTable('ledger_entries')
        .set({ state: 'settled', outcome: input.outcome, settled_micro: input.amountMicro, billed_units: input.billedUnits, settle_source: input.source, verified, http_status: input.httpStatus, settled_at: input.at })
        .where('id', '=', id)
        .where('state', '=', 'reserved')
        .returning(['key_id', 'team', 'token_id', 'quoted_micro', 'images', 'created_at'])
        .executeTakeFirst();
      if (!c) return;
      const moves = unchargeMoves({ keyId: c.key_id, team: c.team, tokenId: c.token_id, quotedMicro: c.quoted_micro, images: c.images, createdAt: c.created_at }, input.amountMicro);
      const giveBack = sql.join(
        moves.map((m) => sql`WHEN excluded.scope = ${m.ref.scope} AND excluded.bucket = ${m.ref.bucket} THEN CAST(${-m.reservedDelta} AS BIGINT)`),
        sql` `,
      );
      await trx
        .insertInto('budget_counters')
        .values(moves.map((m) => ({ scope: m.ref.scope, bucket: m.ref.bucket, reserved_micro: 0, spent_micro: m.spentDelta })))
        .onConflict((oc) =>
          oc.columns(['scope', 'bucket']).doUpdateSet({
            spent_micro: sql`budget_counters.spent_micro + excluded.spent_micro`,
            reserved_micro: sql`budget_counters.reserved_micro - CASE ${giveBack} ELSE 0 END`,
          }),
        )
        .execute();
    });
  }

  destroy(): Promise<void> {
    return this.db.destroy();
  }

  /** BEGIN IMMEDIATE on SQLite (Kysely's own transaction() has no way to ask for it), BEGIN on Postgres. */
  private inTransaction(body: (trx: Kysely<Tables>) => Promise<void>): Promise<void> {
    return this.db.connection().execute(async (conn) => {
      await sql.raw(this.begin).execute(conn);
      try {
        await body(conn);
        await sql`COMMIT`.execute(conn);
      } catch (err) {
        await sql`ROLLBACK`.execute(conn);
        throw err;
      }
    });
  }
}
