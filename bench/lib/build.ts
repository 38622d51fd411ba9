/**
 * Compiles the gateway (src/) and the bench servers once with tsc into node_modules/.cache/
 * fal-gateway-bench, so every child runs plain `node file.js` (no tsx loader in the measured
 * processes, as in production where `node dist/server.js` runs). Skipped when the output is newer
 * than every source file. Under node_modules the output stays out of lint and git, and packages
 * still resolve; a package.json there marks the tree as ES modules (node_modules ends the scope).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BuildPaths {
  root: string;
  gateway: string;
  sim: string;
  probe: string;
  passthrough: string;
  replyFrom: string;
  serverProxy: string;
  /** The compiled config, read to see which settings this gateway version knows. */
  config: string;
  /** tsc's complaints (type errors still emit JavaScript); empty when clean or skipped. */
  warnings: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function buildAll(repo: string, log: (line: string) => void): BuildPaths {
  const out = join(repo, 'node_modules/.cache/fal-gateway-bench');
  const servers = join(out, 'bench/servers');
  const paths: BuildPaths = {
    root: out,
    gateway: join(out, 'src/server.js'),
    sim: join(servers, 'sim.js'),
    probe: join(servers, 'probe.js'),
    passthrough: join(servers, 'passthrough.js'),
    replyFrom: join(servers, 'reply-from.js'),
    serverProxy: join(servers, 'fal-server-proxy.js'),
    config: join(out, 'src/config.js'),
    warnings: '',
  };
  const stamp = join(out, '.built-at');
  const sourcesAt = Math.max(newestMtime(join(repo, 'src')), newestMtime(join(repo, 'bench/servers')));
  if (existsSync(stamp) && statSync(stamp).mtimeMs > sourcesAt && existsSync(paths.gateway)) {
    log('build: up to date (node_modules/.cache/fal-gateway-bench)');
    return paths;
  }
  const started = Date.now();
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'bench/tsconfig.build.json')], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (!existsSync(paths.gateway) || !existsSync(paths.sim)) {
    throw new Error(`tsc produced no output:\n${tsc.stdout}${tsc.stderr}`);
  }
  if (tsc.status !== 0) {
    paths.warnings = `${tsc.stdout}${tsc.stderr}`.trim();
    log(`build: tsc reported type errors (JavaScript was still emitted; src/ is being edited?):\n${paths.warnings.split('\n').slice(0, 5).join('\n')}`);
  }
  writeFileSync(join(out, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(stamp, new Date().toISOString());
  log(`build: compiled src/ and bench/servers/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return paths;
}
