/**
 * `fal-gateway` help and exit codes: help exits 0 on stdout; a wrong command line exits 2 with the
 * reason on stderr; a command that fails (no such key) exits 1. The README's CLI lines are
 * commands the help lists.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_VERSION } from '../../src/version.js';
import { cliOn } from './run-cli.js';

const cli = cliOn();

describe('fal-gateway help', () => {
  it('prints usage on stdout and exits 0 for --help, -h, help, help <command> and <command> --help', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await cli.run(...args);
      expect(r.code, args.join(' ')).toBe(0);
      for (const group of ['serve', 'keys', 'tokens', 'teams', 'admins', 'usage']) expect(r.stdout).toContain(`  ${group} `);
      expect(r.stderr).toBe('');
    }
    for (const args of [['keys', '--help'], ['help', 'keys'], ['keys', 'create', '--help'], ['keys', 'help']]) {
      const r = await cli.run(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('fal-gateway keys show ID [--json]');
    }
    expect(await cli.run('--version')).toEqual({ code: 0, stdout: `${GATEWAY_VERSION}\n`, stderr: '' });
    const tokens = await cli.run('tokens', '--help');
    expect(tokens.code).toBe(0);
    expect(tokens.stdout).toContain('--ttl-seconds');
  }, 120_000);

  it('every command in the README CLI section is one the help lists', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const lines = [...readme.matchAll(/^npx fal-gateway ([a-z]+)(?: ([a-z]+))?/gm)];
    expect(lines.length).toBeGreaterThan(10);
    const usage = new Map<string, string>();
    for (const [, group = '', sub] of lines) {
      if (!usage.has(group)) usage.set(group, (await cli.ok(group, '--help')).stdout);
      expect(usage.get(group), `${group} ${sub ?? ''}`).toContain(`fal-gateway ${group}${sub ? ` ${sub}` : ''}`);
    }
  }, 120_000);
});

describe('fal-gateway wrong command lines', () => {
  it('exits 2 with the reason on stderr and nothing on stdout', async () => {
    const cases: [string[], string][] = [
      [[], 'Usage: fal-gateway <command>'],
      [['nope'], 'unknown command "nope"'],
      [['help', 'nope'], 'unknown command "nope"'],
      [['keys'], 'keys needs a subcommand'],
      [['keys', 'frobnicate'], 'unknown keys command "frobnicate"'],
      [['keys', 'create', '--name', 'x', '--bogus'], "Unknown option '--bogus'"],
      [['keys', 'create', '--name'], "'--name"],
      [['keys', 'create'], 'keys create needs --name'],
      [['keys', 'create', '--name', 'x', '--rpm', 'many'], '--rpm must be a whole number'],
      [['keys', 'create', '--name', 'x', '--budget-usd', '0x10'], '--budget-usd must be a non-negative number'],
      [['keys', 'create', '--name', 'x', '--budget-usd', '-1'], "'--budget-usd"],
      // Refused by the service, with the admin API's own rule (rpm ≥ 1, team name pattern).
      [['keys', 'create', '--name', 'x', '--rpm', '0'], 'rpm: Expected integer to be greater or equal to 1'],
      [['keys', 'create', '--name', 'x', '--team', 'no spaces'], 'team:'],
      [['keys', 'create', '--name', 'x', '--webhook-url', 'http://plain.example/hook'], 'allowed_webhook_urls must be https URLs'],
      [['keys', 'create', '--name', 'x', '--publishable'], 'a publishable key needs allowed_origins'],
      [['keys', 'show'], 'keys show needs a key id'],
      [['keys', 'show', 'a', 'b'], 'extra arguments: b'],
      [['usage', '--group-by', 'week'], '--group-by must be day, hour, key, team, end_user'],
      [['usage', '--from', 'yesterday'], '--from and --to must be'],
      [['usage', '--csv', '--json'], '--csv or --json'],
      [['tokens', 'mint'], 'tokens mint needs --key'],
      [['admins', 'create', '--name', 'x', '--role', 'root'], '--role admin or --role viewer'],
      [['teams', 'set', 'research'], 'teams set needs at least one of'],
    ];
    for (const [args, reason] of cases) {
      const r = await cli.run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(reason);
      expect(r.stdout, args.join(' ')).toBe('');
    }
  }, 300_000);

  it('exits 1 when the command is right but fails, and a flag value "help" is a value, not a help request', async () => {
    const missing = await cli.run('keys', 'show', 'key_missing');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no key with id key_missing');
    const named = await cli.ok('keys', 'create', '--name', 'help');
    expect((JSON.parse(named.stdout) as { name: string }).name).toBe('help');
  }, 60_000);
});
