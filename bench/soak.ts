/**
 * The memory soak (issue 9 item 11):
 *
 *   npm run soak                          30 minutes
 *   npm run soak -- --minutes 10          shorter
 *   npm run soak -- --rate 20             journeys started per second (≈ 3.3 requests each)
 *   npm run soak -- --snapshots 3,8       heap snapshots of the gateway at these minutes (kept in the work dir)
 *   npm run soak -- --db postgres         the ledger on a fresh database in BENCH_DATABASE_URL or TEST_DATABASE_URL
 *
 * The gateway (compiled src/, SQLite file ledger, LOG_LEVEL=info, every other setting at its
 * default but limits set non-binding) runs as a child process against the simulated fal, both
 * preloaded with bench/servers/probe.js. bench/lib/soak-load.ts drives the mixed workload. RSS and
 * fds come from /proc, heap from the probe, every `--sample-s` seconds; slopes are least-squares
 * fits over the samples after the warm-up (5 minutes, or a third of shorter runs).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAll } from './lib/build.js';
import { machineInfo } from './lib/machine.js';
import { createBenchDatabase } from './lib/postgres.js';
import { Child, freePort, waitHttp } from './lib/procs.js';
import { JOURNEY_WEIGHTS, SoakLoad } from './lib/soak-load.js';
import { slope } from './lib/stats.js';

const repo = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const t0 = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[soak ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};

interface Args {
  minutes: number;
  rate: number;
  sampleS: number;
  snapshots: number[];
  keep: boolean;
  db: 'sqlite' | 'postgres';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 30, rate: 20, sampleS: 5, snapshots: [], keep: false, db: 'sqlite' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2);
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--minutes') args.minutes = Number(value());
    else if (flag === '--rate') args.rate = Number(value());
    else if (flag === '--sample-s') args.sampleS = Number(value());
    else if (flag === '--snapshots') args.snapshots = value().split(',').map(Number);
    else if (flag === '--keep') args.keep = true;
    else if (flag === '--db') {
      const db = value();
      if (db !== 'sqlite' && db !== 'postgres') throw new Error('--db is sqlite or postgres');
      args.db = db;
    }
    else throw new Error(`unknown argument ${flag ?? ''}`);
  }
  if (!(args.minutes > 0) || !(args.rate > 0) || !(args.sampleS > 0) || args.snapshots.some((m) => !(m > 0))) throw new Error('--minutes, --rate, --sample-s and --snapshots take positive numbers');
  return args;
}

interface Sample {
  min: number;
  rssMb: number;
  heapMb: number;
  heapTotalMb: number;
  externalMb: number;
  mallocMb: number;
  fds: number;
  load1: number;
}

/**
 * RSS of the `[heap]` mapping (glibc's main malloc arena): native allocations (SQLite, Node's C++
 * side) grow it, the V8 heap does not (V8 maps its own pages), so it tells the two apart.
 */
function mallocHeapMb(pid: number): number {
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const at = smaps.indexOf('[heap]');
  const kb = at < 0 ? NaN : Number(/Rss:\s+(\d+) kB/.exec(smaps.slice(at))?.[1] ?? NaN);
  return kb / 1024;
}

const GATEWAY_KEYS = 20;
const SIM_KEY = 'sim-key';

async function postJson(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const build = buildAll(repo, log);
  const workDir = mkdtempSync(join(tmpdir(), 'fal-gateway-soak-'));
  const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (args.db === 'postgres' && serverUrl === undefined) throw new Error('--db postgres needs BENCH_DATABASE_URL or TEST_DATABASE_URL');
  const database = args.db === 'postgres' && serverUrl !== undefined ? await createBenchDatabase(serverUrl) : undefined;
  const children: Child[] = [];
  const start = (name: string, script: string, env: Record<string, string>, nodeArgs: string[] = []): Child => {
    const child = Child.start({ name, script, env, nodeArgs, logFile: join(workDir, `${name}.log`), probe: build.probe });
    children.push(child);
    return child;
  };
  try {
    const [runPort, queuePort, gwPort] = [await freePort(), await freePort(), await freePort()];
    const sim = start('sim', build.sim, { SIM_RUN_PORT: String(runPort), SIM_QUEUE_PORT: String(queuePort), SIM_FAL_KEY: SIM_KEY });
    const control = `http://127.0.0.1:${runPort}/_sim`;
    await waitHttp(sim, `${control}/stats`);
    // Jobs take 0.5–1.5 s, as short generations do; queue concurrency stays unlimited (bench sim).
    await postJson(`${control}/faults`, { latencyMs: 1000, jitterMs: 500 });

    const adminToken = randomBytes(24).toString('hex');
    const gateway = start(
      'gateway',
      build.gateway,
      {
        NODE_ENV: 'production',
        FAL_KEY: SIM_KEY,
        FAL_RUN_URL: `http://127.0.0.1:${runPort}`,
        FAL_QUEUE_URL: `http://127.0.0.1:${queuePort}`,
        HOST: '127.0.0.1',
        PORT: String(gwPort),
        DATABASE_URL: database?.url ?? `sqlite:${join(workDir, 'gateway.db')}`,
        ADMIN_TOKEN: adminToken,
        LOG_LEVEL: 'info',
        RATE_LIMIT_RPM: '10000000',
        POLL_RATE_LIMIT_RPM: '10000000',
        AUTH_FAILURES_PER_MINUTE: '1000000',
      },
      args.snapshots.length > 0 ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${workDir}`] : [],
    );
    const origin = `http://127.0.0.1:${gwPort}`;
    await waitHttp(gateway, `${origin}/healthz`);
    const keys: string[] = [];
    for (let i = 0; i < GATEWAY_KEYS; i++) {
      const created = await postJson(`${origin}/admin/keys`, { name: `soak-${i}` }, { authorization: `Bearer ${adminToken}` });
      const key = created.json.key;
      if (created.status !== 201 || typeof key !== 'string') throw new Error(`key creation answered ${created.status}`);
      keys.push(key);
    }

    const machine = machineInfo(repo);
    const warmupMin = Math.min(5, args.minutes / 3);
    log(`gateway pid ${gateway.pid}, ${args.minutes} min at ${args.rate} journeys/s, work dir ${workDir}`);
    const load = new SoakLoad({ origin, keys, rate: args.rate, deadline: performance.now() + args.minutes * 60_000, maxInFlight: 2000, pollMs: 500 });
    const samples: Sample[] = [];
    const loadStart = performance.now();
    const take = async (): Promise<void> => {
      const s = gateway.sample();
      const p = await gateway.probe();
      samples.push({ min: (performance.now() - loadStart) / 60_000, rssMb: s.rssMb, heapMb: p?.mem.heapUsedMb ?? NaN, heapTotalMb: p?.mem.heapTotalMb ?? NaN, externalMb: p?.mem.externalMb ?? NaN, mallocMb: mallocHeapMb(gateway.pid), fds: s.fds, load1: loadavg()[0] ?? NaN });
    };
    await take();
    const sampler = setInterval(() => void take(), args.sampleS * 1000);
    const snapTimers = args.snapshots.map((m) =>
      setTimeout(() => {
        log(`heap snapshot at ${m} min (written to ${workDir})`);
        process.kill(gateway.pid, 'SIGUSR2');
      }, m * 60_000),
    );
    let lastReport = 0;
    const progress = setInterval(() => {
      const s = samples[samples.length - 1];
      if (s === undefined || s.min - lastReport < 1) return;
      lastReport = s.min;
      log(`${s.min.toFixed(1)} min: ${load.counts.requests} requests, ${load.counts.errors} errors, RSS ${s.rssMb.toFixed(1)} MB, heap ${s.heapMb.toFixed(1)} MB, fds ${s.fds}, load ${s.load1.toFixed(2)}`);
    }, 10_000);
    await load.run();
    clearInterval(sampler);
    clearInterval(progress);
    snapTimers.forEach(clearTimeout);
    await take();
    const seconds = (performance.now() - loadStart) / 1000;
    if (!gateway.alive) throw new Error(`the gateway exited during the soak:\n${gateway.tail()}`);
    process.stdout.write(report(args, machine, samples, load, seconds, warmupMin));
    if (args.keep || args.snapshots.length > 0) log(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await database?.drop();
  }
}

function report(args: Args, machine: ReturnType<typeof machineInfo>, samples: Sample[], load: SoakLoad, seconds: number, warmupMin: number): string {
  const steady = samples.filter((s) => s.min >= warmupMin);
  const per10 = (pick: (s: Sample) => number): string => (slope(steady.map((s) => ({ x: s.min / 10, y: pick(s) }))) || 0).toFixed(2);
  const first = samples[0];
  const warm = steady[0];
  const last = samples[samples.length - 1];
  const f = (v: number | undefined): string => (v === undefined ? '?' : v.toFixed(1));
  const loads = samples.map((s) => s.load1).filter(Number.isFinite);
  const c = load.counts;
  const lines = [
    `## soak: ${args.minutes} min, ${args.rate} journeys/s, ${args.db} ledger, commit ${machine.git.commit}${machine.git.dirty ? ' (src/ dirty)' : ''}`,
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memGb} GB, Node ${machine.node}; load average (1 min) during the run: mean ${f(loads.reduce((a, b) => a + b, 0) / loads.length)}, max ${f(Math.max(...loads))}`,
    `requests: ${c.requests} in ${seconds.toFixed(0)} s (${(c.requests / seconds).toFixed(1)} req/s); journeys ${JSON.stringify(c.journeys)} (weights ${JSON.stringify(JOURNEY_WEIGHTS)}); skipped ${c.skipped}`,
    `fault answers: ${JSON.stringify(c.statuses)}`,
    `errors: ${c.errors}${c.errorSamples.length > 0 ? ` (first: ${c.errorSamples.join('; ')})` : ''}`,
    `RSS MB: start ${f(first?.rssMb)}, after ${warmupMin.toFixed(1)} min warm-up ${f(warm?.rssMb)}, end ${f(last?.rssMb)}, max ${f(Math.max(...samples.map((s) => s.rssMb)))}`,
    `RSS slope after warm-up: ${per10((s) => s.rssMb)} MB per 10 min (heap used ${per10((s) => s.heapMb)}, heap total ${per10((s) => s.heapTotalMb)}, external ${per10((s) => s.externalMb)}, malloc [heap] ${per10((s) => s.mallocMb)} MB per 10 min)`,
    `heap used MB: after warm-up ${f(warm?.heapMb)}, end ${f(last?.heapMb)}`,
    `fds: after warm-up ${warm?.fds ?? '?'}, end ${last?.fds ?? '?'} (at start ${first?.fds ?? '?'})`,
    '',
    '| min | RSS MB | heap used MB | heap total MB | external MB | malloc [heap] MB | fds | load 1m |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const every = Math.max(1, Math.round(Math.max(1, args.minutes / 10) * 60 / args.sampleS));
  for (let i = 0; i < samples.length; i += every) {
    const s = samples[i];
    if (s !== undefined) lines.push(`| ${s.min.toFixed(1)} | ${f(s.rssMb)} | ${f(s.heapMb)} | ${f(s.heapTotalMb)} | ${f(s.externalMb)} | ${f(s.mallocMb)} | ${s.fds} | ${s.load1.toFixed(2)} |`);
  }
  if (last !== undefined) lines.push(`| ${last.min.toFixed(1)} | ${f(last.rssMb)} | ${f(last.heapMb)} | ${f(last.heapTotalMb)} | ${f(last.externalMb)} | ${f(last.mallocMb)} | ${last.fds} | ${last.load1.toFixed(2)} |`);
  return `${lines.join('\n')}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
