#!/usr/bin/env node
/**
 * The `fal-gateway` command (package.json "bin": dist/cli.js): run the server, and administer keys,
 * tokens, teams, admin credentials and reports directly on the store named by DATABASE_URL.
 * Commands are in cli/, dispatched by cli/main.ts.
 */
import { runCli } from './cli/main.js';

runCli(process.argv.slice(2)).then(
  (status) => {
    // `serve` keeps running; every other command has closed its store by now.
    if (status !== 0) process.exitCode = status;
  },
  (err: unknown) => {
    process.stderr.write(`fal-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
