/** TeamStore on PostgreSQL, shared by every gateway instance. */
import type { TeamRecord, TeamStore } from '../team-store.js';
import type { PgPool } from './postgres-database.js';

type TeamRow = {
  name: string;
  budget_micro_usd: number | null;
  budget_daily_micro_usd: number | null;
  budget_monthly_micro_usd: number | null;
  updated_at: string;
};

const COLUMNS = 'name, budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd, updated_at';

export class PostgresTeamStore implements TeamStore {
  constructor(private readonly pool: PgPool) {}

  async get(name: string): Promise<TeamRecord | null> {
    const { rows } = await this.pool.query<TeamRow>({ name: 'fgw_team_get', text: `SELECT ${COLUMNS} FROM teams WHERE name = $1`, values: [name] });
    const row = rows[0];
    return row ? toRecord(row) : null;
  }

  async upsert(team: TeamRecord): Promise<TeamRecord> {
    const { rows } = await this.pool.query<TeamRow>({
      name: 'fgw_team_upsert',
      text: `INSERT INTO teams (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET budget_micro_usd = EXCLUDED.budget_micro_usd,
               budget_daily_micro_usd = EXCLUDED.budget_daily_micro_usd, budget_monthly_micro_usd = EXCLUDED.budget_monthly_micro_usd,
               updated_at = EXCLUDED.updated_at
             RETURNING ${COLUMNS}`,
      values: [team.name, team.budgetMicroUsd, team.budgetDailyMicroUsd, team.budgetMonthlyMicroUsd, team.updatedAt],
    });
    const row = rows[0];
    if (!row) throw new Error('team upsert returned no row');
    return toRecord(row);
  }

  /** COLLATE "C": byte order, the order SQLite and the memory twin list in, whatever the database locale. */
  async list(): Promise<TeamRecord[]> {
    const { rows } = await this.pool.query<TeamRow>({ name: 'fgw_team_list', text: `SELECT ${COLUMNS} FROM teams ORDER BY name COLLATE "C"` });
    return rows.map(toRecord);
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
