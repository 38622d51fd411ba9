/** `fal-gateway admins …`: named admin credentials, through services/admin-credentials.ts. */
import { adminView, createAdmin, isRole, revokeAdmin } from '../services/admin-credentials.js';
import { note, noPositionals, onePositional, parseFlags, print, printJson, runSubcommand, UsageError, withStores, type CliCommand } from './command.js';
import { cell, table } from './format.js';

const USAGE = `Usage:
  fal-gateway admins create --name NAME --role admin|viewer   prints the secret once, on stdout
  fal-gateway admins list [--json]
  fal-gateway admins revoke ID

admin may do everything; viewer only reads (GET /admin/usage, /admin/keys, /admin/teams, /admin/audit).`;

async function create(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { name: { type: 'string' }, role: { type: 'string' } });
  noPositionals(positionals, 'admins create');
  const name = values.name;
  if (name === undefined) throw new UsageError('admins create needs --name');
  const role = values.role ?? '';
  if (!isRole(role)) throw new UsageError('admins create needs --role admin or --role viewer');
  await withStores(async ({ audit, now }) => {
    const { record, secret } = await createAdmin(audit, { name, role }, now());
    printJson({ ...adminView(record), secret });
    note('Store the secret now: it is not shown again.');
  });
}

async function list(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' } });
  noPositionals(positionals, 'admins list');
  await withStores(async ({ stores }) => {
    const admins = (await stores.admins.list()).map(adminView);
    if (values.json) return printJson(admins);
    print(table(['id', 'name', 'role', 'prefix', 'created', 'revoked'], admins.map((a) => [a.id, a.name, a.role, a.prefix, a.created_at, cell(a.revoked_at)])));
    if (admins.length === 0) print('(no admin credentials; ADMIN_TOKEN is the bootstrap credential)');
  });
}

async function revoke(args: string[]): Promise<void> {
  const { positionals } = parseFlags(args, {});
  const id = onePositional(positionals, 'a credential id', 'admins revoke');
  await withStores(async ({ audit, now }) => {
    const a = await revokeAdmin(audit, id, now());
    if (!a) throw new Error(`no admin credential with id ${id}`);
    print(`revoked ${a.id} (${a.name})`);
  });
}

export const adminsCommand: CliCommand = {
  summary: 'create, list and revoke named admin credentials',
  usage: USAGE,
  run: (args) => runSubcommand('admins', { create, list, revoke }, args),
};
