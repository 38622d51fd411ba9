/**
 * What every CLI command group shares: its table entry, argument parsing that turns every mistake
 * into a UsageError (exit 2), and the stores plus audit context a command acts through.
 */
import { userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config.js';
import { loggerOptions } from '../logger.js';
import { loadEnvFile } from '../server.js';
import type { AuditContext } from '../services/audit.js';
import { openStores, type Stores } from '../store/stores.js';

/** One entry of the dispatcher's table (main.ts): `fal-gateway <name> …`. */
export interface CliCommand {
  /** One line for `fal-gateway --help`. */
  summary: string;
  /** The group's own help, printed by `fal-gateway <name> --help`. */
  usage: string;
  /**
   * Resolves when done, optionally with an exit status (default 0); throws UsageError for a wrong
   * command line (exit 2), anything else exits 1.
   */
  run(args: string[]): Promise<number | void>;
}

/** The command line is wrong (unknown subcommand, bad flag or value): exit 2 with a hint to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode; an unknown flag or a missing value is a UsageError. */
export function parseFlags<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * A numeric flag written in plain decimal (`12`, `0.5`; no signs, exponents or hex), whole when
 * `integer`; a UsageError naming the flag otherwise. Ranges are the services' to check.
 */
export function numberFlag(name: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(raw) || !Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a ${integer ? 'whole' : 'non-negative'} number (got "${raw}")`);
  }
  return n;
}

/** The one positional argument a subcommand takes (an id, a team name). */
export function onePositional(positionals: string[], what: string, command: string): string {
  const [first, ...extra] = positionals;
  if (first === undefined) throw new UsageError(`${command} needs ${what}`);
  if (extra.length > 0) throw new UsageError(`${command} takes one ${what}, got extra arguments: ${extra.join(' ')}`);
  return first;
}

export function noPositionals(positionals: string[], command: string): void {
  if (positionals.length > 0) throw new UsageError(`${command} takes no arguments besides flags (got ${positionals.join(' ')})`);
}

/** Runs `subs[args[0]]`; an unknown or missing subcommand is a UsageError. */
export async function runSubcommand(group: string, subs: Record<string, (args: string[]) => Promise<void>>, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const run = sub !== undefined && Object.hasOwn(subs, sub) ? subs[sub] : undefined;
  if (run === undefined) throw new UsageError(sub === undefined ? `${group} needs a subcommand: ${Object.keys(subs).join(', ')}` : `unknown ${group} command "${sub}"`);
  await run(rest);
}

export interface CliContext {
  config: Config;
  stores: Stores;
  audit: AuditContext;
  now: () => Date;
}

/**
 * Opens the store the server would use (the same `.env` and DATABASE_URL, default
 * sqlite:./data/gateway.db), runs `fn` and closes it. FAL_KEY is not required here.
 */
export async function withStores(fn: (ctx: CliContext) => Promise<void>): Promise<void> {
  loadEnvFile();
  const config = loadConfig(process.env, { demo: true });
  const stores = await openStores(config.databaseUrl);
  try {
    await fn({ config, stores, audit: cliAudit(stores), now: () => new Date() });
  } finally {
    await stores.close();
  }
}

/** CLI actions are audited as `cli:<os user>` with no client IP; the `admin action` line goes to stderr. */
export function cliAudit(stores: Stores): AuditContext {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return { actor: `cli:${user}`, clientIp: null, admins: stores.admins, log: pino(loggerOptions('info'), pino.destination({ fd: 2, sync: true })) };
}

/** Results go to stdout (secrets only from the commands that create them); notes go to stderr. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
