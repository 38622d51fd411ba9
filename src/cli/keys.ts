/** `fal-gateway keys …`: create, update, rotate, revoke, list and show, through services/key-admin.ts. */
import { createKey, keyView, revokeKey, rotateKey, updateKey, type CreateKeyInput, type UpdateKeyInput } from '../services/key-admin.js';
import { noPositionals, numberFlag, note, onePositional, parseFlags, printJson, runSubcommand, UsageError, withStores, type CliCommand } from './command.js';
import { listKeys, showKey } from './keys-view.js';
import { printable } from './format.js';

const USAGE = `Usage:
  fal-gateway keys create --name NAME [--team TEAM] [--budget-usd N] [--daily-usd N] [--monthly-usd N]
                          [--rpm N] [--max-concurrency N] [--webhook-url URL ...] [--origin ORIGIN ...]
                          [--publishable] [--expires-at ISO-TIME] [--owner TEXT]
  fal-gateway keys update ID [--name NAME] [--team TEAM|none] [--budget-usd N|none] [--daily-usd N|none]
                          [--monthly-usd N|none] [--rpm N|none] [--max-concurrency N|none]
                          [--expires-at ISO-TIME|never] [--owner TEXT|none] [--webhook-url URL ...]
                          [--origin ORIGIN ...]   (none clears a setting; a list flag replaces the list)
  fal-gateway keys rotate ID [--grace-seconds N]   new secret, same key; the old one works N s more (default 3600)
  fal-gateway keys revoke ID
  fal-gateway keys list [--json]                   a table of every key (never a secret)
  fal-gateway keys show ID [--json]                one key, with spent, reserved and remaining per budget

create and rotate print the secret once, on stdout. Every change is written to the audit log.`;

/** Flags shared by create and update: the admin API's body fields, in flag form. */
const SETTINGS = {
  name: { type: 'string' },
  team: { type: 'string' },
  'budget-usd': { type: 'string' },
  'daily-usd': { type: 'string' },
  'monthly-usd': { type: 'string' },
  rpm: { type: 'string' },
  'max-concurrency': { type: 'string' },
  'expires-at': { type: 'string' },
  owner: { type: 'string' },
} as const;

/** Lists replace the key's whole list (on update too). */
const LISTS = { 'webhook-url': { type: 'string', multiple: true }, origin: { type: 'string', multiple: true } } as const;

type Settings = Partial<Record<keyof typeof SETTINGS, string>>;

/** `none` (or `never` for expiry) clears a setting on update; create has nothing to clear. */
function settingsInput(v: Settings, clearable: boolean): UpdateKeyInput {
  const input: UpdateKeyInput = {};
  const cleared = (raw: string | undefined, word = 'none') => clearable && raw === word;
  const usd = (flag: 'budget-usd' | 'daily-usd' | 'monthly-usd') => (cleared(v[flag]) ? null : numberFlag(flag, v[flag], false));
  const whole = (flag: 'rpm' | 'max-concurrency') => (cleared(v[flag]) ? null : numberFlag(flag, v[flag], true));
  if (v.name !== undefined) input.name = v.name;
  if (v.team !== undefined) input.team = cleared(v.team) ? null : v.team;
  if (v.owner !== undefined) input.owner = cleared(v.owner) ? null : v.owner;
  if (v['expires-at'] !== undefined) input.expires_at = cleared(v['expires-at'], 'never') ? null : v['expires-at'];
  const [budget, daily, monthly, rpm, conc] = [usd('budget-usd'), usd('daily-usd'), usd('monthly-usd'), whole('rpm'), whole('max-concurrency')];
  if (budget !== undefined) input.budget_usd = budget;
  if (daily !== undefined) input.budget_daily_usd = daily;
  if (monthly !== undefined) input.budget_monthly_usd = monthly;
  if (rpm !== undefined) input.rpm = rpm;
  if (conc !== undefined) input.max_concurrency = conc;
  return input;
}

async function create(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { ...SETTINGS, ...LISTS, publishable: { type: 'boolean' } });
  noPositionals(positionals, 'keys create');
  if (values.name === undefined) throw new UsageError('keys create needs --name');
  const input: CreateKeyInput = { ...settingsInput(values, false), name: values.name };
  if (values['webhook-url']) input.allowed_webhook_urls = values['webhook-url'];
  if (values.origin) input.allowed_origins = values.origin;
  if (values.publishable) input.kind = 'publishable';
  await withStores(async ({ stores, audit, now }) => {
    const { record, secret } = await createKey(stores.keys, input, now(), audit);
    printJson({ ...keyView(record), key: secret });
    note('Store the key now: it is not shown again.');
  });
}

async function update(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { ...SETTINGS, ...LISTS });
  const id = onePositional(positionals, 'a key id', 'keys update');
  const input = settingsInput(values, true);
  if (values['webhook-url']) input.allowed_webhook_urls = values['webhook-url'];
  if (values.origin) input.allowed_origins = values.origin;
  if (Object.keys(input).length === 0) throw new UsageError(`keys update needs at least one of ${Object.keys({ ...SETTINGS, ...LISTS }).map((f) => `--${f}`).join(', ')}`);
  await withStores(async ({ stores, audit, now }) => {
    const k = await updateKey(stores.keys, id, input, now(), audit);
    if (!k) throw new Error(`no key with id ${id}`);
    printJson(keyView(k));
    note('Running gateways use new budgets, max_concurrency and policy on their next run or submit, the rest within KEY_CACHE_MS.');
  });
}

async function rotate(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { 'grace-seconds': { type: 'string' } });
  const id = onePositional(positionals, 'a key id', 'keys rotate');
  const grace = numberFlag('grace-seconds', values['grace-seconds'], true);
  await withStores(async ({ stores, audit, now }) => {
    const { record, secret } = await rotateKey(stores.keys, id, grace, now(), audit);
    printJson({ ...keyView(record), key: secret });
    note('Store the new key now: it is not shown again. Running gateways see it within KEY_CACHE_MS.');
  });
}

async function revoke(args: string[]): Promise<void> {
  const { positionals } = parseFlags(args, {});
  const id = onePositional(positionals, 'a key id', 'keys revoke');
  await withStores(async ({ stores, audit, now }) => {
    const k = await revokeKey(stores.keys, id, now(), audit);
    if (!k) throw new Error(`no key with id ${id}`);
    process.stdout.write(`revoked ${k.id} (${printable(k.name)})\n`);
  });
}

export const keysCommand: CliCommand = {
  summary: 'create, update, rotate, revoke, list and show client keys',
  usage: USAGE,
  run: (args) => runSubcommand('keys', { create, update, rotate, revoke, list: listKeys, show: showKey }, args),
};
