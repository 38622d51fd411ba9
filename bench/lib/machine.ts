/** What the numbers were measured on: machine, Node, package versions and the git state. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memGb: number;
  kernel: string;
  node: string;
  packages: Record<string, string>;
  git: { commit: string; dirty: boolean };
}

const PACKAGES = ['fastify', '@fastify/reply-from', '@fal-ai/server-proxy', 'undici', 'autocannon', 'better-sqlite3', 'pg', 'pino', 'typescript'];

function version(repo: string, pkg: string): string {
  try {
    const json = JSON.parse(readFileSync(join(repo, 'node_modules', pkg, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : '?';
  } catch {
    return 'not installed';
  }
}

function git(repo: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(repo: string): MachineInfo {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    cpuModel: model.trim(),
    cores: cpus().length,
    memGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, version(repo, p)])),
    git: { commit: git(repo, ['rev-parse', '--short', 'HEAD']) || 'unknown', dirty: git(repo, ['status', '--porcelain', '--', 'src']) !== '' },
  };
}
