/** TeamStore on the embedded SQLite database. Statements are prepared once. */
import type { TeamRecord, TeamStore } from '../team-store.js';
import type { SqliteDb } from './sqlite-database.js';

interface TeamRow {
  name: string;
  budget_micro_usd: number | null;
  budget_daily_micro_usd: number | null;
  budget_monthly_micro_usd: number | null;
  updated_at: string;
}

const COLUMNS = 'name, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, updated_at';

export class SqliteTeamStore implements TeamStore {
  private readonly upsertStmt;
  private readonly byName;
  private readonly all;

  constructor(db: SqliteDb) {
    this.upsertStmt = db.prepare<[TeamRecord], TeamRow>(
      `INSERT INTO teams (${COLUMNS}) VALUES (@name, @budgetMicroUsd, @budgetDailyMicroUsd, @budgetMonthlyMicroUsd, @updatedAt)
       ON CONFLICT (name) DO UPDATE SET budget_micro_usd = excluded.budget_micro_usd,
         budget_daily_micro_usd = excluded.budget_daily_micro_usd, budget_monthly_micro_usd = excluded.budget_monthly_micro_usd,
         updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
    );
    this.byName = db.prepare<[string], TeamRow>(`SELECT ${COLUMNS} FROM teams WHERE name = ?`);
    this.all = db.prepare<[], TeamRow>(`SELECT ${COLUMNS} FROM teams ORDER BY name`);
  }

  get(name: string): Promise<TeamRecord | null> {
    const row = this.byName.get(name);
    return Promise.resolve(row ? toRecord(row) : null);
  }

  upsert(team: TeamRecord): Promise<TeamRecord> {
    const row = this.upsertStmt.get({
      name: team.name,
      budgetMicroUsd: team.budgetMicroUsd,
      budgetDailyMicroUsd: team.budgetDailyMicroUsd,
      budgetMonthlyMicroUsd: team.budgetMonthlyMicroUsd,
      updatedAt: team.updatedAt,
    });
    if (!row) return Promise.reject(new Error('team upsert returned no row'));
    return Promise.resolve(toRecord(row));
  }

  list(): Promise<TeamRecord[]> {
    return Promise.resolve(this.all.all().map(toRecord));
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
