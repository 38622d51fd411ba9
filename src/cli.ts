#!/usr/bin/env node
/**
 * `fal-gateway` command line: run the server, and administer keys directly on the store named by
 * DATABASE_URL (the same store and the same code paths as the admin API).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createKey, invalidWebhookPrefixes, keyView, type CreateKeyInput } from './services/key-admin.js';
import { main as serve } from './server.js';
import { openStores } from './store/stores.js';

const USAGE = `Usage:
  fal-gateway serve                          run the gateway (same as npm start)
  fal-gateway keys create --name NAME [--team TEAM] [--budget-usd N] [--rpm N]
                          [--max-concurrency N] [--webhook-url URL ...]
  fal-gateway keys list [--json]
  fal-gateway keys revoke ID

Reads DATABASE_URL (default sqlite:./data/gateway.db) like the server.`;

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
      const rpm = num('rpm', values.rpm, true);
      if (rpm !== undefined) input.rpm = rpm;
      const conc = num('max-concurrency', values['max-concurrency'], true);
      if (conc !== undefined) input.max_concurrency = conc;
      if (values['webhook-url']) {
        if (invalidWebhookPrefixes(values['webhook-url']).length > 0) fail('--webhook-url must be an https URL');
        input.allowed_webhook_urls = values['webhook-url'];
      }
      const { record, secret } = await createKey(stores.keys, input, new Date());
      console.log(JSON.stringify({ ...keyView(record), key: secret }, null, 2));
      console.error('Store the key now: it is not shown again.');
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
      const k = await stores.keys.revoke(id, new Date().toISOString());
      if (!k) fail(`no key with id ${id}`);
      console.log(`revoked ${k.id} (${k.name})`);
    } else {
      fail(USAGE);
    }
  } finally {
    await stores.close();
  }
}

async function cli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve();
  if (command === 'keys') return keysCommand(rest);
  fail(USAGE);
}

cli(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message);
  fail(`fal-gateway: ${err instanceof Error ? err.message : String(err)}`);
});
