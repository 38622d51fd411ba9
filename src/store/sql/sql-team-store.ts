/** TeamStore on SQLite or Postgres (sql-plan.ts). */
import type { TeamRecord, TeamStore } from '../team-store.js';
import { query, sql, type SqlDb } from './sql-plan.js';

interface TeamRow {
  name: string;
  budget_micro_usd: number | null;
  budget_daily_micro_usd: number | null;
  budget_monthly_micro_usd: number | null;
  updated_at: string;
}

const COLUMNS = 'name, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, updated_at';

const Q = {
  get: sql(`SELECT ${COLUMNS} FROM teams WHERE name = @name`),
  upsert: sql(
    `INSERT INTO teams (${COLUMNS}) VALUES (@name, @budgetMicroUsd, @budgetDailyMicroUsd, @budgetMonthlyMicroUsd, @updatedAt)
     ON CONFLICT (name) DO UPDATE SET budget_micro_usd = excluded.budget_micro_usd,
       budget_daily_micro_usd = excluded.budget_daily_micro_usd, budget_monthly_micro_usd = excluded.budget_monthly_micro_usd,
       updated_at = excluded.updated_at
     RETURNING ${COLUMNS}`,
  ),
  /** COLLATE "C": byte order on Postgres whatever the database locale, the order SQLite lists in. */
  list: sql(`SELECT ${COLUMNS} FROM teams ORDER BY name COLLATE "C"`),
};

export class SqlTeamStore implements TeamStore {
  constructor(private readonly db: SqlDb) {}

  async get(name: string): Promise<TeamRecord | null> {
    const row = (await this.db.run(query<TeamRow>(Q.get, { name }))).rows[0];
    return row ? toRecord(row) : null;
  }

  async upsert(team: TeamRecord): Promise<TeamRecord> {
    const params = {
      name: team.name,
      budgetMicroUsd: team.budgetMicroUsd,
      budgetDailyMicroUsd: team.budgetDailyMicroUsd,
      budgetMonthlyMicroUsd: team.budgetMonthlyMicroUsd,
      updatedAt: team.updatedAt,
    };
    const row = (await this.db.run(query<TeamRow>(Q.upsert, params))).rows[0];
    if (!row) throw new Error('team upsert returned no row');
    return toRecord(row);
  }

  async list(): Promise<TeamRecord[]> {
    return (await this.db.run(query<TeamRow>(Q.list))).rows.map(toRecord);
  }
}

function toRecord(row: TeamRow): TeamRecord {
  return {
    name: row.name,
    budgetMicroUsd: row.budget_micro_usd,
    budgetDailyMicroUsd: row.budget_daily_micro_usd,
    budgetMonthlyMicroUsd: row.budget_monthly_micro_usd,
    updatedAt: row.updated_at,
  };
}
