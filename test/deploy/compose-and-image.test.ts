/**
 * The Docker image, its build context and compose.yaml, checked without Docker (none on CI): the
 * image is pinned to an LTS release and runs node directly as a non-root user with a readiness
 * HEALTHCHECK; .env.example works as a Docker env file over the image's defaults; compose runs two
 * replicas behind the very haproxy.cfg that test/deploy/balancer.test.ts exercises, with secrets in
 * env files and stop periods longer than the gateway's shutdown.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { closeDeadlineMs } from '../../src/server.js';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };

/** Docker's --env-file rules: KEY=VALUE lines taken literally (no quotes, no expansion), # comments. */
function dockerEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return env;
}

/** The runtime stage's ENV line (`ENV A=1 B=2`). */
function imageEnv(): Record<string, string> {
  const stages = dockerfile.split(/^FROM /m);
  const line = /^ENV (.+)$/m.exec(stages.at(-1) ?? '')?.[1] ?? '';
  return Object.fromEntries(line.split(/\s+/).map((kv) => kv.split('=') as [string, string]));
}

describe('Docker image', () => {
  it('is built on an exact Node LTS release that engines lists, besides Node 20', () => {
    const version = /^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(dockerfile);
    expect(version).not.toBeNull();
    const major = version?.[1] ?? '';
    expect(Number(major) % 2).toBe(0); // only even majors become LTS
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/m);
    expect(pkg.engines.node).toContain(`^${major}.`);
    expect(pkg.engines.node).toContain('^20.');
  });

  it('runs node directly (exec form) as a non-root user, with a HEALTHCHECK on readiness', () => {
    const runtime = dockerfile.split(/^FROM /m).at(-1) ?? '';
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/server\.js"\]$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/readyz/m);
    expect(runtime).not.toMatch(/^(CMD|ENTRYPOINT) \["?npm/m);
  });

  it('keeps databases, env files, local installs and git history out of the build context', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['.git', 'node_modules', '.env', '*.db', 'data']) expect(ignored, p).toContain(p);
  });

  it('.env.example works as a Docker env file: listens on every interface, SQLite on /data', () => {
    const env = { ...imageEnv(), ...dockerEnvFile(readFileSync('.env.example', 'utf8')), FAL_KEY: 'fal_docker' };
    const config = loadConfig(env);
    expect(config.host).toBe('0.0.0.0');
    expect(config.databaseUrl).toBe('sqlite:/data/gateway.db');
    expect(dockerfile).toMatch(/chown node:node \/data/);
  });

  it('.env.example keeps the one-process defaults (loopback, ./data) when used outside Docker', () => {
    const config = loadConfig({ ...dockerEnvFile(readFileSync('.env.example', 'utf8')), FAL_KEY: 'fal_local' });
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBe('sqlite:./data/gateway.db');
  });
});

interface Service {
  image?: string;
  restart?: string;
  env_file?: { path: string }[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  stop_grace_period?: string;
  networks?: string[] | Record<string, { ipv4_address?: string }>;
}
const compose = parse(readFileSync('compose.yaml', 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
const haproxyCfg = readFileSync('deploy/haproxy/haproxy.cfg', 'utf8');

describe('compose.yaml', () => {
  it('runs two gateway replicas, Postgres, Redis and HAProxy, every one with a restart policy', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway-1', 'gateway-2', 'haproxy', 'postgres', 'redis']);
    for (const [name, s] of Object.entries(services)) expect(s.restart, name).toBe('unless-stopped');
    for (const name of ['haproxy', 'postgres', 'redis']) expect(services[name]?.healthcheck?.test, name).toBeDefined();
  });

  it('mounts the same haproxy.cfg the deploy test runs, pointing at both replicas', () => {
    const lb = services.haproxy;
    expect(lb?.volumes).toContain('./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(lb?.environment).toMatchObject({ GW1_ADDR: 'gateway-1:8787', GW2_ADDR: 'gateway-2:8787' });
    expect(haproxyCfg).toContain('option httpchk GET /readyz');
  });

  it('keeps secrets in env files and trusts only the balancer as a proxy', () => {
    const lbAddress = (services.haproxy?.networks as Record<string, { ipv4_address?: string }>).backend?.ipv4_address;
    for (const name of ['gateway-1', 'gateway-2']) {
      const s = services[name];
      expect(s?.env_file?.map((f) => f.path)).toEqual(['deploy/compose/gateway.env']);
      for (const secret of ['FAL_KEY', 'ADMIN_TOKEN', 'DATABASE_URL']) expect(s?.environment?.[secret], secret).toBeUndefined();
      expect(s?.environment?.TRUST_PROXY).toBe(lbAddress);
    }
    expect(services.postgres?.environment).toBeUndefined();
  });

  it("drains a replica before it stops: drain outlasts haproxy's down detection, stop period outlasts the shutdown", () => {
    const check = /inter (\d+)s fall (\d+)/.exec(haproxyCfg);
    const downAfterMs = Number(check?.[1]) * 1000 * Number(check?.[2]);
    for (const name of ['gateway-1', 'gateway-2']) {
      const s = services[name];
      const config = loadConfig({ FAL_KEY: 'fal_compose', ...s?.environment });
      expect(config.shutdownDrainMs).toBeGreaterThan(downAfterMs);
      expect(Number(/^(\d+)s$/.exec(s?.stop_grace_period ?? '')?.[1]) * 1000).toBeGreaterThan(closeDeadlineMs(config));
    }
  });
});
