/**
 * The `fal-gateway` dispatcher: one table of command groups, help, and exit codes (0 done,
 * 1 failed, 2 the command line is wrong). Each group lives in its own module and acts through the
 * same services as the admin API.
 */
import { ConfigError } from '../config.js';
import { GatewayError } from '../errors.js';
import { RECONCILE_USAGE, reconcileCommand } from '../cli-reconcile.js';
import { loadEnvFile, main as serve } from '../server.js';
import { GATEWAY_VERSION } from '../version.js';
import { adminsCommand } from './admins.js';
import { UsageError, type CliCommand } from './command.js';
import { keysCommand } from './keys.js';
import { teamsCommand } from './teams.js';
import { tokensCommand } from './tokens.js';
import { usageCommand } from './usage.js';

/** Adding a command is one line here. */
export const COMMANDS: Record<string, CliCommand> = {
  serve: { summary: 'run the gateway (same as npm start)', usage: 'Usage:\n  fal-gateway serve      runs the gateway, configured like `node dist/server.js`', run: () => serve() },
  keys: keysCommand,
  tokens: tokensCommand,
  teams: teamsCommand,
  admins: adminsCommand,
  usage: usageCommand,
  reconcile: {
    summary: "compare the ledger with fal's usage API per hour or day (needs FAL_ADMIN_KEY)",
    usage: `Usage:\n  ${RECONCILE_USAGE}\n  exit 0 matched or pending, 1 a bucket differs, 2 bad arguments or configuration, 3 fal or the database failed`,
    run: (args) => {
      loadEnvFile();
      return reconcileCommand(args, { env: process.env, out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) });
    },
  },
};

const HELP_FLAGS = new Set(['--help', '-h']);

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return `Usage: fal-gateway <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}
  ${'help'.padEnd(width)}  this text (also --help, -h); \`fal-gateway help <command>\` or \`fal-gateway <command> --help\` for one
  ${''.padEnd(width)}  command; \`fal-gateway --version\` prints the version

Commands work directly on the gateway's store: DATABASE_URL from the environment or .env (like
the server; ENV_FILE names another file), default sqlite:./data/gateway.db, which is also where
\`npm run demo\` keeps its keys. Changes are written to the audit log as cli:<os user>.
Exit status: 0 done, 1 failed (no such key, database unreachable …), 2 wrong command line.
`;
}

function commandOf(name: string | undefined): CliCommand | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/** Runs one command line and returns the exit status; output goes to stdout, errors to stderr. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(help());
    return 2;
  }
  if (name === 'help' || HELP_FLAGS.has(name)) {
    const topic = rest[0];
    if (topic === undefined) return done(help());
    const command = commandOf(topic);
    if (command === undefined) return usageError(new UsageError(`unknown command "${topic}"`), undefined);
    return done(command.usage);
  }
  if (name === '--version') return done(GATEWAY_VERSION);
  const command = commandOf(name);
  if (command === undefined) return usageError(new UsageError(`unknown command "${name}"`), undefined);
  if (rest[0] === 'help' || rest.some((a) => HELP_FLAGS.has(a))) return done(command.usage);
  try {
    return (await command.run(rest)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) return usageError(err, name);
    return failure(err);
  }
}

function done(text: string): number {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}

function usageError(err: UsageError, command: string | undefined): number {
  const hint = command === undefined ? 'Usage: fal-gateway <command> [options]; run `fal-gateway --help` for the commands.' : `Run \`fal-gateway ${command} --help\` for its options.`;
  process.stderr.write(`fal-gateway: ${err.message}\n${hint}\n`);
  return 2;
}

/** Invalid values refused by a service are the command line's fault (2); the rest failed (1). */
function failure(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`fal-gateway: ${message}\n`);
  return err instanceof GatewayError && err.code === 'bad_request' ? 2 : 1;
}
