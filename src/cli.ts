#!/usr/bin/env node
/**
 * `fal-gateway` command line: run the server, and administer keys directly on the store named by
 * DATABASE_URL (the same store and the same code paths as the admin API).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { loggerOptions } from './logger.js';
import { adminView, createAdmin, isRole, revokeAdmin } from './services/admin-credentials.js';
import type { AuditContext } from './services/audit.js';
import { createKey, invalidWebhookPrefixes, keyView, revokeKey, rotateKey, toPatch, updateKey, type CreateKeyInput, type UpdateKeyInput } from './services/key-admin.js';
import { main as serve } from './server.js';
import { TEAM_NAME, setTeamBudgets, teamView, type TeamInput } from './services/team-admin.js';
import { parseBound, usageCsv, usageReport } from './services/usage-report.js';
import { openStores, type Stores } from './store/stores.js';

const USAGE = `Usage:
  fal-gateway serve                          run the gateway (same as npm start)
  fal-gateway keys create --name NAME [--team TEAM] [--budget-usd N] [--daily-usd N]
                          [--monthly-usd N] [--rpm N] [--max-concurrency N] [--webhook-url URL ...]
                          [--expires-at ISO-TIME] [--owner TEXT]
  fal-gateway keys update ID [--expires-at ISO-TIME|never] [--owner TEXT] [--name NAME]
  fal-gateway keys rotate ID [--grace-seconds N]   new secret, same key; old one works N s (default 3600)
  fal-gateway keys list [--json]
  fal-gateway keys revoke ID
  fal-gateway teams set NAME [--budget-usd N] [--daily-usd N] [--monthly-usd N]
  fal-gateway teams list
  fal-gateway admins create --name NAME --role admin|viewer
  fal-gateway admins list
  fal-gateway admins revoke ID
  fal-gateway usage [--key ID] [--team TEAM] [--end-user U] [--from DATE] [--to DATE]
                    [--group-by day|key|end_user] [--csv]

Reads DATABASE_URL (default sqlite:./data/gateway.db) like the server.`;

/** CLI actions are audited as `cli:<os user>` with no client IP; the `admin action` line goes to stderr. */
function cliAudit(stores: Stores): AuditContext {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return { actor: `cli:${user}`, clientIp: null, admins: stores.admins, log: pino(loggerOptions('info'), pino.destination(2)) };
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function num(name: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    fail(`--${name} must be a ${integer ? 'whole' : 'non-negative'} number (got "${raw}")`);
  }
  return n;
}

async function keysCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      team: { type: 'string' },
      'budget-usd': { type: 'string' },
      rpm: { type: 'string' },
      'max-concurrency': { type: 'string' },
      'webhook-url': { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'daily-usd': { type: 'string' },
      'monthly-usd': { type: 'string' },
      'expires-at': { type: 'string' },
      owner: { type: 'string' },
      'grace-seconds': { type: 'string' },
    },
  });
  const config = loadConfig(process.env, { demo: true });
  const stores = await openStores(config.databaseUrl);
  try {
    if (sub === 'create') {
      if (!values.name) fail('keys create needs --name');
      const input: CreateKeyInput = { name: values.name };
      if (values.team !== undefined) input.team = values.team;
      const budget = num('budget-usd', values['budget-usd'], false);
      if (budget !== undefined) input.budget_usd = budget;
      const daily = num('daily-usd', values['daily-usd'], false);
      if (daily !== undefined) input.budget_daily_usd = daily;
      const monthly = num('monthly-usd', values['monthly-usd'], false);
      if (monthly !== undefined) input.budget_monthly_usd = monthly;
      const rpm = num('rpm', values.rpm, true);
      if (rpm !== undefined) input.rpm = rpm;
      const conc = num('max-concurrency', values['max-concurrency'], true);
      if (conc !== undefined) input.max_concurrency = conc;
      if (values['webhook-url']) {
        if (invalidWebhookPrefixes(values['webhook-url']).length > 0) fail('--webhook-url must be an https URL');
        input.allowed_webhook_urls = values['webhook-url'];
      }
      if (values['expires-at'] !== undefined) input.expires_at = values['expires-at'];
      if (values.owner !== undefined) input.owner = values.owner;
      const { record, secret } = await createKey(stores.keys, input, new Date(), cliAudit(stores));
      console.log(JSON.stringify({ ...keyView(record), key: secret }, null, 2));
      console.error('Store the key now: it is not shown again.');
    } else if (sub === 'update') {
      const id = positionals[0];
      if (!id) fail('keys update needs a key id');
      const input: UpdateKeyInput = {};
      if (values['expires-at'] !== undefined) input.expires_at = values['expires-at'] === 'never' ? null : values['expires-at'];
      if (values.owner !== undefined) input.owner = values.owner;
      if (values.name !== undefined) input.name = values.name;
      if (Object.keys(input).length === 0) fail('keys update needs --expires-at, --owner or --name');
      const k = await updateKey(stores.keys, id, toPatch(input), new Date(), cliAudit(stores));
      if (!k) fail(`no key with id ${id}`);
      console.log(JSON.stringify(keyView(k), null, 2));
    } else if (sub === 'rotate') {
      const id = positionals[0];
      if (!id) fail('keys rotate needs a key id');
      const { record, secret } = await rotateKey(stores.keys, id, num('grace-seconds', values['grace-seconds'], true), new Date(), cliAudit(stores));
      console.log(JSON.stringify({ ...keyView(record), key: secret }, null, 2));
      console.error('Store the new key now: it is not shown again. Running gateways see it within KEY_CACHE_MS.');
    } else if (sub === 'list') {
      const keys = (await stores.keys.list()).map(keyView);
      if (values.json) {
        console.log(JSON.stringify(keys, null, 2));
      } else {
        console.table(keys.map((k) => ({ id: k.id, name: k.name, team: k.team ?? '', prefix: k.prefix, budget_usd: k.budget_usd ?? '', rpm: k.rpm ?? '', revoked: k.revoked_at ?? '' })));
      }
    } else if (sub === 'revoke') {
      const id = positionals[0];
      if (!id) fail('keys revoke needs a key id');
      const k = await revokeKey(stores.keys, id, new Date(), cliAudit(stores));
      if (!k) fail(`no key with id ${id}`);
      console.log(`revoked ${k.id} (${k.name})`);
    } else {
      fail(USAGE);
    }
  } finally {
    await stores.close();
  }
}

async function teamsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { 'budget-usd': { type: 'string' }, 'daily-usd': { type: 'string' }, 'monthly-usd': { type: 'string' } },
  });
  const stores = await openStores(loadConfig(process.env, { demo: true }).databaseUrl);
  try {
    if (sub === 'set') {
      const name = positionals[0];
      if (!name || !TEAM_NAME.test(name)) fail('teams set needs a team name (letters, digits, . _ -)');
      const input: TeamInput = {};
      const b = num('budget-usd', values['budget-usd'], false);
      if (b !== undefined) input.budget_usd = b;
      const d = num('daily-usd', values['daily-usd'], false);
      if (d !== undefined) input.budget_daily_usd = d;
      const m = num('monthly-usd', values['monthly-usd'], false);
      if (m !== undefined) input.budget_monthly_usd = m;
      console.log(JSON.stringify(teamView(await setTeamBudgets(stores.teams, name, input, new Date(), cliAudit(stores))), null, 2));
    } else if (sub === 'list') {
      console.table((await stores.teams.list()).map(teamView));
    } else {
      fail(USAGE);
    }
  } finally {
    await stores.close();
  }
}

async function adminsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: { type: 'string' }, role: { type: 'string' } } });
  const stores = await openStores(loadConfig(process.env, { demo: true }).databaseUrl);
  try {
    if (sub === 'create') {
      if (!values.name) fail('admins create needs --name');
      const role = values.role ?? '';
      if (!isRole(role)) fail('admins create needs --role admin or --role viewer');
      const { record, secret } = await createAdmin(cliAudit(stores), { name: values.name, role }, new Date());
      console.log(JSON.stringify({ ...adminView(record), secret }, null, 2));
      console.error('Store the secret now: it is not shown again.');
    } else if (sub === 'list') {
      console.log(JSON.stringify((await stores.admins.list()).map(adminView), null, 2));
    } else if (sub === 'revoke') {
      const id = positionals[0];
      if (!id) fail('admins revoke needs an id');
      const a = await revokeAdmin(cliAudit(stores), id, new Date());
      if (!a) fail(`no admin credential with id ${id}`);
      console.log(`revoked ${a.id} (${a.name})`);
    } else {
      fail(USAGE);
    }
  } finally {
    await stores.close();
  }
}

async function usageCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { key: { type: 'string' }, team: { type: 'string' }, 'end-user': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' }, csv: { type: 'boolean' } },
  });
  const groupBy = values['group-by'];
  if (groupBy !== undefined && groupBy !== 'day' && groupBy !== 'key' && groupBy !== 'end_user') fail('--group-by must be day, key or end_user');
  const from = parseBound(values.from);
  const to = parseBound(values.to);
  if (from === null || to === null) fail('--from and --to must be YYYY-MM-DD or ISO-8601');
  const stores = await openStores(loadConfig(process.env, { demo: true }).databaseUrl);
  try {
    const report = await usageReport(stores.ledger, { keyId: values.key, team: values.team, endUser: values['end-user'], from, to, groupBy });
    if (values.csv) {
      process.stdout.write(usageCsv(report));
      return;
    }
    const rows = report.rows.length > 0 ? report.rows : [{ group: 'all', requests: report.requests, spent_usd: report.total_usd, reserved_usd: report.reserved_usd, megapixels: report.megapixels, billed_units: report.billed_units }];
    console.table(rows);
    console.log(`total: $${report.total_usd} spent, $${report.reserved_usd} reserved, ${report.megapixels} MP, ${report.requests} requests`);
  } finally {
    await stores.close();
  }
}

async function cli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve();
  if (command === 'keys') return keysCommand(rest);
  if (command === 'teams') return teamsCommand(rest);
  if (command === 'usage') return usageCommand(rest);
  if (command === 'admins') return adminsCommand(rest);
  fail(USAGE);
}

cli(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message);
  fail(`fal-gateway: ${err instanceof Error ? err.message : String(err)}`);
});
