/**
 * The benchmark harness (issue 6; design in docs/reliability.md A7/A8).
 *
 *   npm run bench                    smoke run, under 3 minutes on the 2-core machine
 *   npm run bench -- --full          A8's sizes (about half an hour)
 *   npm run bench -- --only=s1,s3    some scenarios only
 *                                    (s1–s9 as in docs/reliability.md A7; issue #12 added:
 *                                    s5r  sync run max throughput, small body, c=32, vs node:http
 *                                         (sim renders each answer, judged; then replays one);
 *                                    s10  submit on two Postgres instances of one database,
 *                                         connections split, vs one instance and SQLite gw-prod)
 *   npm run bench -- --pin           gateway/proxies on CPU 0, sim + load generator on CPU 1
 *   npm run bench -- --profile       CPU profile of the gateway's status path under S3 load
 *                                    (--profile=submit: S5 load; --profile=run: S5r's sync call;
 *                                    --profile-variant=gw-pg: another variant)
 *
 * Every server runs as its own child process against the simulated fal on loopback; every figure
 * is reported against baselines measured in the same run, interleaved. Postgres joins when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL names a server (a fresh database is created and dropped).
 * Prints Markdown tables and writes bench/results/bench-<mode>-<time>.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAll, type BuildPaths } from './lib/build.js';
import { renderProfile, summarize } from './lib/cpu-profile.js';
import { startFleet, type Fleet } from './lib/fleet.js';
import { machineInfo } from './lib/machine.js';
import { NoiseMeter } from './lib/noise.js';
import { SCENARIOS, makePlan, variantsNeeded, type Plan, type Scenario } from './lib/plan.js';
import { renderReport } from './lib/report.js';
import { computeRatios, type Results } from './lib/results.js';
import { statusCall, submitCall, syncCall, type Variant } from './lib/targets.js';
import { verdicts } from './lib/verdicts.js';
import { bigBodies } from './scenarios/big-bodies.js';
import { addedLatency } from './scenarios/latency.js';
import { realisticMix } from './scenarios/mix.js';
import { scaleOut } from './scenarios/scale-out.js';
import { soak } from './scenarios/soak.js';
import { SYNC_BODIES, syncRun } from './scenarios/sync-run.js';
import { fixedRate, maxThroughput } from './scenarios/throughput.js';

const repo = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const t0 = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
};

interface Args {
  full: boolean;
  only: Scenario[];
  pin: boolean;
  profile: 'status' | 'submit' | 'run' | null;
  profileVariant: string;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false, only: [...SCENARIOS], pin: false, profile: null, profileVariant: 'gw-log', keep: false };
  for (const a of argv) {
    if (a === '--full') args.full = true;
    else if (a === '--pin') args.pin = true;
    else if (a === '--profile' || a === '--profile=status') args.profile = 'status';
    else if (a === '--profile=submit') args.profile = 'submit';
    else if (a === '--profile=run') args.profile = 'run';
    else if (a.startsWith('--profile-variant=')) args.profileVariant = a.slice('--profile-variant='.length);
    else if (a === '--keep') args.keep = true;
    else if (a.startsWith('--only=')) {
      const list = a.slice('--only='.length).split(',');
      const bad = list.filter((s) => !SCENARIOS.includes(s as Scenario));
      if (bad.length > 0) throw new Error(`unknown scenario(s) ${bad.join(', ')}; known: ${SCENARIOS.join(', ')}`);
      args.only = list as Scenario[];
    } else throw new Error(`unknown option ${a}`);
  }
  return args;
}

function pinSelf(cpu: string): void {
  execFileSync('taskset', ['-acp', cpu, String(process.pid)], { stdio: 'ignore' });
}

const pick = (fleet: Fleet, ids: readonly string[]): Variant[] => fleet.variants.filter((v) => ids.includes(v.id));

async function runScenarios(fleet: Fleet, plan: Plan, only: Scenario[], results: Results): Promise<void> {
  const on = (s: Scenario) => only.includes(s);
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    log(`${name} …`);
    const started = Date.now();
    const out = await work();
    log(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return out;
  };
  const status = (v: Variant) => v.statusIds.map(statusCall);
  const firstStatus = (v: Variant) => statusCall(v.statusIds[0] ?? '');
  // gw-pg2 is gw-pg's twin for S10: a latency row of its own would repeat gw-pg's.
  const single = fleet.variants.filter((v) => v.id !== 'gw-pg2');
  if (on('s1')) results.s1 = await step('S1 status latency c=1', () => addedLatency(single, firstStatus, plan.s1));
  if (on('s2')) results.s2 = await step('S2 submit latency c=1', () => addedLatency(single, () => submitCall(), plan.s2));
  if (on('s3') || on('s4') || on('s9')) {
    results.s3 = await step('S3 status max throughput c=50', () => maxThroughput(pick(fleet, plan.s3.variants), status, plan.s3));
  }
  const maxRps = new Map((results.s3 ?? []).map((r) => [r.id, r.rps]));
  if (on('s4')) results.s4 = await step('S4 status at 50 % of max, open loop', () => fixedRate(pick(fleet, plan.s3.variants), status, maxRps, plan.s4));
  if (on('s5')) results.s5 = await step('S5 submit max throughput c=50', () => maxThroughput(pick(fleet, plan.s5.variants), () => [submitCall()], plan.s5));
  if (on('s5r')) {
    results.s5r = await step('S5r sync run max throughput c=32, sim renders', () => syncRun(fleet, pick(fleet, plan.s5r.variants), plan.s5r, 'rendered'));
    results.s5rReplayed = await step('S5r sync run max throughput c=32, sim replays', () => syncRun(fleet, pick(fleet, plan.s5r.variants), plan.s5r, 'replayed'));
  }
  if (on('s6')) results.s6 = await step('S6 realistic mix', () => realisticMix(fleet, pick(fleet, plan.s6.variants), plan.s6));
  if (on('s7')) results.s7 = await step('S7 large sync_mode bodies', () => bigBodies(fleet, pick(fleet, plan.s7.variants), plan.s7));
  const soakVariant = fleet.byId(plan.s9.variant);
  if (on('s9') && soakVariant !== undefined) {
    const rate = (maxRps.get(soakVariant.id) ?? 2000) * plan.s9.statusFraction;
    results.s9 = await step(`S9 soak ${plan.s9.seconds} s`, () => soak(fleet, soakVariant, { ...plan.s9, statusRate: rate }));
  }
  if (on('s10')) {
    if (fleet.postgres) results.s10 = await step('S10 submit on two Postgres instances c=50', () => scaleOut(fleet, plan.s10));
    else log('S10 skipped: it needs BENCH_DATABASE_URL or TEST_DATABASE_URL');
  }
}

async function profileGateway(build: BuildPaths, workDir: string, path: 'status' | 'submit' | 'run', id: string, postgresUrl: string | undefined): Promise<void> {
  const dir = join(repo, 'bench/results/profiles');
  mkdirSync(dir, { recursive: true });
  const fleet = await startFleet({ build, workDir, postgresUrl, parked: 50, want: (v) => v === id, gatewayNodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir], log });
  const before = new Set(readdirSync(dir));
  try {
    const gw = fleet.byId(id);
    if (gw === undefined || gw.kind !== 'gateway') throw new Error(`${id} is not a gateway variant that started (gw-pg needs BENCH_DATABASE_URL or TEST_DATABASE_URL)`);
    log(`profiling ${gw.label} under ${path} load, c=50, 15 s`);
    const calls = (v: Variant) => (path === 'status' ? v.statusIds.map(statusCall) : path === 'run' ? [syncCall(SYNC_BODIES.rendered)] : [submitCall()]);
    // S5r's conditions for the sync call: the sim answers at once.
    if (path === 'run') await fleet.setFaults({ latencyMs: 0 });
    const [row] = await maxThroughput([gw], calls, { rounds: 1, seconds: 15, warmupSeconds: 2, connections: 50 });
    log(`load: ${row?.rps.toFixed(0) ?? '?'} req/s, ${row?.cpuUsPerReq.toFixed(0) ?? '?'} µs CPU/req, event-loop delay p99 ${row?.eldP99Ms ?? '?'} ms`);
  } finally {
    await fleet.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (file === undefined) throw new Error('no .cpuprofile was written');
  const summary = summarize(join(dir, file), build.root);
  const text = renderProfile(summary);
  writeFileSync(join(dir, file.replace(/\.cpuprofile$/, '.md')), `${text}\n`);
  process.stdout.write(`${text}\n\nprofile: bench/results/profiles/${file}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = makePlan(args.full);
  const build = buildAll(repo, log);
  const workDir = mkdtempSync(join(tmpdir(), 'fgw-bench-'));
  if (args.pin) pinSelf('1');
  try {
    const postgresUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
    if (args.profile !== null) return await profileGateway(build, workDir, args.profile, args.profileVariant, postgresUrl);
    const want = variantsNeeded(plan, args.only);
    const noise = new NoiseMeter();
    const fleet = await startFleet({ build, workDir, postgresUrl, parked: plan.s3.connections, want: (id) => want.has(id), ...(args.pin ? { pin: { proxies: '0', sim: '1' } } : {}), log });
    const startedAt = new Date().toISOString();
    const results: Results = {
      meta: {
        startedAt,
        mode: plan.mode,
        command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
        seconds: 0,
        machine: machineInfo(repo),
        pinned: args.pin,
        postgres: fleet.postgres,
        rateLimits: fleet.rateLimits
          ? 'the gateway enforces rate limits and they cannot be switched off: every gateway row includes them, set non-binding (RATE_LIMIT_RPM=POLL_RATE_LIMIT_RPM=10,000,000)'
          : 'n/a, not available yet (the gateway has no RATE_LIMIT_RPM setting)',
        buildWarnings: build.warnings,
        notes: [],
      },
      variants: fleet.variants.map((v) => ({ id: v.id, label: v.label, kind: v.kind })),
      idle: {},
      ratios: {},
      verdicts: [],
    };
    if (!fleet.postgres) results.meta.notes.push('Postgres variant skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL to a Postgres server.');
    if (build.warnings !== '') results.meta.notes.push('tsc reported type errors in src/ while building (JavaScript was emitted and run): see meta.buildWarnings.');
    try {
      await new Promise((r) => setTimeout(r, 1000));
      for (const v of fleet.variants) {
        const { rssMb, fds } = v.child.sample();
        const mem = (await v.child.probe())?.mem;
        results.idle[v.id] = { rssMb, fds, heapUsedMb: mem?.heapUsedMb ?? NaN, externalMb: mem?.externalMb ?? NaN };
      }
      await runScenarios(fleet, plan, args.only, results);
    } finally {
      const children = new Set(fleet.variants.map((v) => v.child));
      results.meta.noise = noise.finish([...children].reduce((sum, c) => sum + (c.alive ? c.sample().cpuUs : 0), 0));
      await fleet.stop();
    }
    results.meta.seconds = (Date.now() - t0) / 1000;
    results.ratios = computeRatios(results);
    results.verdicts = verdicts(results);
    const report = renderReport(results);
    const dir = join(repo, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `bench-${plan.mode}-${startedAt.replace(/[:.]/g, '-')}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(`${base}.md`, `${report}\n`);
    process.stdout.write(`${report}\n\nresults: ${base.slice(repo.length + 1)}.json\n`);
  } finally {
    if (args.keep) log(`logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
