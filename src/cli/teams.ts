/** `fal-gateway teams …`: team budgets, through services/team-admin.ts. */
import { setTeamBudgets, teamView, type TeamInput } from '../services/team-admin.js';
import { noPositionals, numberFlag, onePositional, parseFlags, print, printJson, runSubcommand, UsageError, withStores, type CliCommand } from './command.js';
import { money, table } from './format.js';

const USAGE = `Usage:
  fal-gateway teams set NAME [--budget-usd N|none] [--daily-usd N|none] [--monthly-usd N|none]
                                 budgets left out keep their value; none removes one
  fal-gateway teams list [--json]`;

async function set(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { 'budget-usd': { type: 'string' }, 'daily-usd': { type: 'string' }, 'monthly-usd': { type: 'string' } });
  const name = onePositional(positionals, 'a team name', 'teams set');
  const usd = (flag: 'budget-usd' | 'daily-usd' | 'monthly-usd') => (values[flag] === 'none' ? null : numberFlag(flag, values[flag], false));
  const input: TeamInput = {};
  const [b, d, m] = [usd('budget-usd'), usd('daily-usd'), usd('monthly-usd')];
  if (b !== undefined) input.budget_usd = b;
  if (d !== undefined) input.budget_daily_usd = d;
  if (m !== undefined) input.budget_monthly_usd = m;
  if (Object.keys(input).length === 0) throw new UsageError('teams set needs at least one of --budget-usd, --daily-usd, --monthly-usd');
  await withStores(async ({ stores, audit, now }) => {
    printJson(teamView(await setTeamBudgets(stores.teams, name, input, now(), audit)));
  });
}

async function list(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' } });
  noPositionals(positionals, 'teams list');
  await withStores(async ({ stores }) => {
    const teams = await stores.teams.list();
    if (values.json) return printJson(teams.map(teamView));
    print(table(['name', 'budget', 'daily', 'monthly', 'updated'], teams.map((t) => [t.name, money(t.budgetMicroUsd), money(t.budgetDailyMicroUsd), money(t.budgetMonthlyMicroUsd), t.updatedAt]), [1, 2, 3]));
    if (teams.length === 0) print('(no team budgets set)');
  });
}

export const teamsCommand: CliCommand = {
  summary: 'set and list team budgets',
  usage: USAGE,
  run: (args) => runSubcommand('teams', { set, list }, args),
};
