/** Team budgets, shared by the admin API and the CLI. A team exists once a key names it. */
import { Type, type Static } from '@sinclair/typebox';
import type { TeamRecord, TeamStore } from '../store/team-store.js';
import { GatewayError } from '../errors.js';
import { recordAdminAction, type AuditContext } from './audit.js';
import { checkInput } from './input-check.js';
import { TEAM_NAME, microOrNull, usdOrNull } from './key-admin.js';

const Usd = Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e9 }), Type.Null()]));
export const TeamBody = Type.Object(
  { budget_usd: Usd, budget_daily_usd: Usd, budget_monthly_usd: Usd },
  { additionalProperties: false },
);
export type TeamInput = Static<typeof TeamBody>;
export { TEAM_NAME };

export function teamView(t: TeamRecord) {
  return {
    name: t.name,
    budget_usd: usdOrNull(t.budgetMicroUsd),
    budget_daily_usd: usdOrNull(t.budgetDailyMicroUsd),
    budget_monthly_usd: usdOrNull(t.budgetMonthlyMicroUsd),
    updated_at: t.updatedAt,
  };
}

/** Sets a team's budgets; fields left out keep their current value. */
export async function setTeamBudgets(teams: TeamStore, name: string, input: TeamInput, now: Date, audit: AuditContext): Promise<TeamRecord> {
  // The API's route schema checks these too; the CLI reaches here directly.
  if (!TEAM_NAME.test(name)) throw new GatewayError('bad_request', 'A team name is 1 to 100 letters, digits, _ . or -');
  checkInput(TeamBody, input);
  const current = await teams.get(name);
  const after = await teams.upsert({
    name,
    budgetMicroUsd: input.budget_usd === undefined ? (current?.budgetMicroUsd ?? null) : microOrNull(input.budget_usd),
    budgetDailyMicroUsd: input.budget_daily_usd === undefined ? (current?.budgetDailyMicroUsd ?? null) : microOrNull(input.budget_daily_usd),
    budgetMonthlyMicroUsd: input.budget_monthly_usd === undefined ? (current?.budgetMonthlyMicroUsd ?? null) : microOrNull(input.budget_monthly_usd),
    updatedAt: now.toISOString(),
  });
  await recordAdminAction(audit, { action: 'team.set', target: name, before: current ? teamView(current) : null, after: teamView(after) }, now);
  return after;
}
