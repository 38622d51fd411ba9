/** `fal-gateway usage`: the report GET /admin/usage gives (services/usage-report.ts), as a table, CSV or JSON. */
import { USAGE_GROUPINGS, groupedUsageReport, parseBound, usageCsv, type UsageReport } from '../services/usage-report.js';
import { noPositionals, parseFlags, print, printJson, UsageError, withStores, type CliCommand } from './command.js';
import { moneyOfUsd, table } from './format.js';

const GROUPS = Object.keys(USAGE_GROUPINGS);

const USAGE = `Usage:
  fal-gateway usage [--key ID] [--team TEAM] [--end-user U] [--from DATE] [--to DATE]
                    [--group-by ${GROUPS.join('|')}] [--csv | --json]

Spend from the ledger, as GET /admin/usage reports it: an aligned table by default, --csv the same
CSV as GET /admin/usage?format=csv, --json the same JSON. --from is inclusive, --to exclusive;
DATE is YYYY-MM-DD (midnight UTC) or an ISO-8601 time.`;

function render(report: UsageReport): string {
  const byKey = report.rows.some((r) => r.key_id !== undefined);
  const rows = report.rows.length > 0 ? report.rows : [{ group: 'all', key_name: undefined, requests: report.requests, spent_usd: report.total_usd, reserved_usd: report.reserved_usd, megapixels: report.megapixels, billed_units: report.billed_units }];
  const numbers = (r: { requests: number; spent_usd: number; reserved_usd: number; megapixels: number; billed_units: number }) => [String(r.requests), moneyOfUsd(r.spent_usd), moneyOfUsd(r.reserved_usd), String(r.megapixels), String(r.billed_units)];
  const body = rows.map((r) => [r.group, ...numbers(r), ...(byKey ? [r.key_name ?? '-'] : [])]);
  const total = ['total', ...numbers({ requests: report.requests, spent_usd: report.total_usd, reserved_usd: report.reserved_usd, megapixels: report.megapixels, billed_units: report.billed_units }), ...(byKey ? [''] : [])];
  const headers = [report.group_by ?? 'group', 'requests', 'spent', 'reserved', 'megapixels', 'billed_units', ...(byKey ? ['key_name'] : [])];
  const lines = table(headers, report.rows.length > 0 ? [...body, total] : body, [1, 2, 3, 4, 5]);
  return report.overruns > 0 ? `${lines}\n${report.overruns} settlement(s) billed by fal above their reservation (overruns: should stay 0)` : lines;
}

async function usage(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    key: { type: 'string' },
    team: { type: 'string' },
    'end-user': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'group-by': { type: 'string' },
    csv: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  noPositionals(positionals, 'usage');
  if (values.csv && values.json) throw new UsageError('usage takes --csv or --json, not both');
  const groupBy = values['group-by'];
  if (groupBy !== undefined && !GROUPS.includes(groupBy)) throw new UsageError(`--group-by must be ${GROUPS.join(', ')} (got "${groupBy}")`);
  const from = parseBound(values.from);
  const to = parseBound(values.to);
  if (from === null || to === null) throw new UsageError('--from and --to must be YYYY-MM-DD or ISO-8601 timestamps');
  await withStores(async ({ stores }) => {
    const report = await groupedUsageReport(stores, { keyId: values.key, team: values.team, endUser: values['end-user'], from, to }, groupBy);
    if (values.csv) return void process.stdout.write(usageCsv(report));
    if (values.json) return printJson(report);
    print(render(report));
  });
}

export const usageCommand: CliCommand = { summary: 'spend per day, hour, key, team or end user, or a time × key/team grid (table, CSV or JSON)', usage: USAGE, run: usage };
