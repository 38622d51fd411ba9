/** Team budgets. A team exists implicitly once a key names it; a record here only adds limits. */
export interface TeamRecord {
  name: string;
  budgetMicroUsd: number | null;
  budgetDailyMicroUsd: number | null;
  budgetMonthlyMicroUsd: number | null;
  updatedAt: string;
}

export interface TeamStore {
  get(name: string): Promise<TeamRecord | null>;
  /** Creates or replaces the team's limits. */
  upsert(team: TeamRecord): Promise<TeamRecord>;
  list(): Promise<TeamRecord[]>;
}
