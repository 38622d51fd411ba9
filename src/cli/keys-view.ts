/** `fal-gateway keys list` and `keys show`: read-only views of keys (never a secret or a hash). */
import { isExpired, keyView } from '../services/key-admin.js';
import { selfUsage } from '../services/usage-report.js';
import type { KeyRecord } from '../store/key-store.js';
import { noPositionals, onePositional, parseFlags, print, printJson, withStores } from './command.js';
import { cell, money, moneyOfUsd, printable, table } from './format.js';

function status(k: KeyRecord, now: Date): string {
  if (k.revokedAt !== null) return 'revoked';
  return isExpired(k, now) ? 'expired' : 'active';
}

export async function listKeys(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' } });
  noPositionals(positionals, 'keys list');
  await withStores(async ({ stores, now }) => {
    const keys = await stores.keys.list();
    if (values.json) return printJson(keys.map(keyView));
    const at = now();
    const rows = keys.map((k) => [k.id, k.name, cell(k.team), k.kind, k.prefix, money(k.budgetMicroUsd), money(k.budgetDailyMicroUsd), money(k.budgetMonthlyMicroUsd), cell(k.rpm), cell(k.expiresAt), status(k, at)]);
    print(table(['id', 'name', 'team', 'kind', 'prefix', 'budget', 'daily', 'monthly', 'rpm', 'expires', 'status'], rows, [5, 6, 7, 8]));
    if (keys.length === 0) print('(no keys)');
  });
}

export async function showKey(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' } });
  const id = onePositional(positionals, 'a key id', 'keys show');
  await withStores(async ({ stores, now }) => {
    const k = await stores.keys.get(id);
    if (k === null) throw new Error(`no key with id ${id}`);
    // The same figures GET /v1/usage gives the key's holder: the ledger's budget counters.
    const usage = await selfUsage(stores.ledger, stores.teams, k, now());
    if (values.json) return printJson({ ...keyView(k), usage });
    const v = keyView(k);
    const facts: [string, string][] = [
      ['id', v.id],
      ['name', v.name],
      ['team', cell(v.team)],
      ['kind', v.kind],
      ['prefix', v.prefix],
      ['status', status(k, now())],
      ['owner', cell(v.owner)],
      ['rpm', cell(v.rpm)],
      ['max concurrency', cell(v.max_concurrency)],
      ['webhook urls', cell(v.allowed_webhook_urls.join(' '))],
      ['origins', cell(v.allowed_origins.join(' '))],
      ['policy', v.policy === null ? '-' : JSON.stringify(v.policy)],
      ['metadata', v.metadata === null ? '-' : JSON.stringify(v.metadata)],
      ['expires', v.expires_at ?? 'never'],
      ['old secret until', cell(v.previous_secret_expires_at)],
      ['created', v.created_at],
      ['revoked', cell(v.revoked_at)],
    ];
    const width = Math.max(...facts.map(([label]) => label.length));
    print(facts.map(([label, value]) => `${label.padEnd(width)}  ${printable(String(value))}`).join('\n'));
    const periods = [
      ['key', 'lifetime', usage],
      ['key', 'day', usage.day],
      ['key', 'month', usage.month],
      ...(usage.team_budgets ? ([['team', 'lifetime', usage.team_budgets.lifetime], ['team', 'day', usage.team_budgets.day], ['team', 'month', usage.team_budgets.month]] as const) : []),
    ] as const;
    const rows = periods.map(([scope, period, p]) => [scope, period, moneyOfUsd(p.spent_usd), moneyOfUsd(p.reserved_usd), moneyOfUsd(p.budget_usd), moneyOfUsd(p.remaining_usd)]);
    print(`\n${table(['budget', 'period', 'spent', 'reserved', 'limit', 'remaining'], rows, [2, 3, 4, 5])}`);
  });
}
