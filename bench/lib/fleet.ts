/**
 * Starts every process of one benchmark run (the simulated fal, the baselines, the gateway
 * variants), prepares what the scenarios need (a gateway key per variant, one parked queue request
 * per variant to poll) and stops them all at the end. All variants stay up for the whole run so
 * rounds can interleave them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildPaths } from './build.js';
import { createBenchDatabase, type BenchDatabase } from './postgres.js';
import { Child, freePort, waitHttp } from './procs.js';
import { directDoor, prefixDoor, serverProxyDoor, submitCall, type SimOrigins, type Variant } from './targets.js';

export interface GatewayDef {
  id: string;
  label: string;
  db: 'memory' | 'sqlite' | 'postgres';
  logLevel: 'silent' | 'info';
  statusCacheMs: number;
  /**
   * Another variant's id whose database and gateway key this one shares (a second instance of a
   * scaled-out gateway): it creates no key of its own and starts once that variant is up.
   */
  sharesWith?: string;
}

/** Features switched on one by one; status coalescing off (single flight only) until the last row. */
export const GATEWAY_DEFS: readonly GatewayDef[] = [
  { id: 'gw-auth', label: 'gateway: auth (SQLite :memory:, logs off)', db: 'memory', logLevel: 'silent', statusCacheMs: 0 },
  { id: 'gw-ledger', label: 'gateway: + ledger in SQLite file (WAL)', db: 'sqlite', logLevel: 'silent', statusCacheMs: 0 },
  { id: 'gw-log', label: 'gateway: + logging LOG_LEVEL=info', db: 'sqlite', logLevel: 'info', statusCacheMs: 0 },
  { id: 'gw-pg', label: 'gateway: + Postgres instead of SQLite', db: 'postgres', logLevel: 'info', statusCacheMs: 0 },
  { id: 'gw-pg2', label: 'gateway: second Postgres instance (same database, same key)', db: 'postgres', logLevel: 'info', statusCacheMs: 0, sharesWith: 'gw-pg' },
  { id: 'gw-prod', label: 'gateway: defaults (+ STATUS_CACHE_MS=250)', db: 'sqlite', logLevel: 'info', statusCacheMs: 250 },
];

export interface SimFaultPatch {
  latencyMs?: number;
  jitterMs?: number;
  queueConcurrency?: number | null;
}

export interface SimStats {
  calls: Record<string, number>;
}

export interface Fleet {
  sim: SimOrigins & { child: Child; control: string };
  variants: Variant[];
  byId(id: string): Variant | undefined;
  simStats(): Promise<SimStats>;
  setFaults(patch: SimFaultPatch): Promise<void>;
  /** The gateway knows RATE_LIMIT_RPM (limits cannot be switched off, so every row pays for them). */
  rateLimits: boolean;
  postgres: boolean;
  stop(): Promise<void>;
}

export interface FleetOptions {
  build: BuildPaths;
  workDir: string;
  /** Postgres server URL to create a fresh database on; the Postgres variants are skipped without it. */
  postgresUrl: string | undefined;
  /** Queue requests parked IN_PROGRESS per variant, for status polling (≥ the S3 connections). */
  parked: number;
  /** Which variant ids to start (direct always). */
  want: (id: string) => boolean;
  /** taskset CPU lists: servers under test vs the sim (the harness pins itself). */
  pin?: { proxies: string; sim: string };
  /** Extra node flags for the gateway processes (e.g. --cpu-prof). */
  gatewayNodeArgs?: string[];
  log: (line: string) => void;
}

const SIM_KEY = 'sim-key';
const PARKED_MS = 3_600_000;

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

function field(json: unknown, name: string): string {
  const v = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
  if (typeof v !== 'string') throw new Error(`expected "${name}" in ${JSON.stringify(json)}`);
  return v;
}

async function createKey(origin: string, adminToken: string, id: string): Promise<string> {
  const created = await postJson(`${origin}/admin/keys`, { name: `bench-${id}` }, { authorization: `Bearer ${adminToken}` });
  if (created.status !== 201) throw new Error(`${id}: key creation answered ${created.status} ${JSON.stringify(created.json)}`);
  return field(created.json, 'key');
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const { build, workDir } = opts;
  const children: Child[] = [];
  let database: BenchDatabase | undefined;
  const start = (name: string, script: string, env: Record<string, string>, cpus?: string, nodeArgs: string[] = []): Child => {
    const child = Child.start({ name, script, env, nodeArgs, logFile: join(workDir, `${name}.log`), probe: build.probe, ...(cpus === undefined ? {} : { cpus }) });
    children.push(child);
    return child;
  };
  const stopAll = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await database?.drop();
  };

  try {
    const [runPort, queuePort] = [await freePort(), await freePort()];
    const simChild = start('sim', build.sim, { SIM_RUN_PORT: String(runPort), SIM_QUEUE_PORT: String(queuePort), SIM_FAL_KEY: SIM_KEY }, opts.pin?.sim);
    const sim = { run: `http://127.0.0.1:${runPort}`, queue: `http://127.0.0.1:${queuePort}`, falKey: SIM_KEY, child: simChild, control: `http://127.0.0.1:${runPort}/_sim` };
    await waitHttp(simChild, `${sim.control}/stats`);

    const setFaults = async (patch: SimFaultPatch) => {
      const res = await postJson(`${sim.control}/faults`, patch);
      if (res.status !== 200) throw new Error(`sim refused faults ${JSON.stringify(patch)}: ${JSON.stringify(res.json)}`);
    };
    const simStats = async (): Promise<SimStats> => (await (await fetch(`${sim.control}/stats`)).json()) as SimStats;

    const baselineEnv = (port: number) => ({ BENCH_PORT: String(port), BENCH_RUN_URL: sim.run, BENCH_QUEUE_URL: sim.queue, BENCH_FAL_KEY: SIM_KEY });
    const pending: Promise<Omit<Variant, 'statusIds'>>[] = [];
    const baseline = (id: string, label: string, script: string, door: (origin: string) => Variant['door']) => {
      if (!opts.want(id)) return;
      pending.push(
        (async () => {
          const port = await freePort();
          const child = start(id, script, baselineEnv(port), opts.pin?.proxies);
          const origin = `http://127.0.0.1:${port}`;
          await waitHttp(child, `${origin}/`);
          return { id, label, kind: 'baseline' as const, child, door: door(origin) };
        })(),
      );
    };
    baseline('node-http', 'bare node:http proxy (undici)', build.passthrough, (o) => prefixDoor(o));
    baseline('reply-from', 'Fastify + @fastify/reply-from', build.replyFrom, (o) => prefixDoor(o));
    baseline('server-proxy', '@fal-ai/server-proxy (core handler)', build.serverProxy, (o) => serverProxyDoor(o, sim));

    const rateLimits = readFileSync(build.config, 'utf8').includes('RATE_LIMIT_RPM');
    const wantPg = opts.postgresUrl !== undefined && GATEWAY_DEFS.some((d) => d.db === 'postgres' && opts.want(d.id));
    if (wantPg && opts.postgresUrl !== undefined) database = await createBenchDatabase(opts.postgresUrl);
    const keys = new Map<string, Promise<string>>();
    for (const def of GATEWAY_DEFS) {
      if (!opts.want(def.id) || (def.db === 'postgres' && database === undefined)) continue;
      const dbUrl = def.db === 'memory' ? 'sqlite::memory:' : def.db === 'sqlite' ? `sqlite:${join(workDir, `${def.id}.db`)}` : (database?.url ?? '');
      const owner = def.sharesWith === undefined ? undefined : keys.get(def.sharesWith);
      if (def.sharesWith !== undefined && owner === undefined) throw new Error(`${def.id} shares ${def.sharesWith}'s key: start ${def.sharesWith} too`);
      let gatewayKey: (key: string) => void = () => undefined;
      keys.set(def.id, new Promise((resolve) => (gatewayKey = resolve)));
      pending.push(
        (async () => {
          // A second instance starts once the first has migrated the database and made the key.
          const shared = owner === undefined ? undefined : await owner;
          const port = await freePort();
          const adminToken = randomBytes(24).toString('hex');
          const child = start(def.id, build.gateway, gatewayEnv(def, port, dbUrl, adminToken, sim), opts.pin?.proxies, opts.gatewayNodeArgs);
          const origin = `http://127.0.0.1:${port}`;
          await waitHttp(child, `${origin}/healthz`);
          const key = shared ?? (await createKey(origin, adminToken, def.id));
          gatewayKey(key);
          return { id: def.id, label: def.label, kind: 'gateway' as const, child, door: prefixDoor(origin, `Key ${key}`) };
        })(),
      );
    }
    const started = await Promise.all(pending);

    // Park queue requests IN_PROGRESS for an hour, `opts.parked` per variant: status polls then
    // always reach fal's status route (a COMPLETED status would be served from the gateway's memory).
    await setFaults({ latencyMs: PARKED_MS, queueConcurrency: null });
    const direct = directDoor(sim);
    const park = async (door: Variant['door']): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < opts.parked; i++) {
        const spec = door(submitCall());
        const res = await postJson(`${spec.origin}${spec.path}`, JSON.parse(spec.body ?? '{}'), spec.headers);
        if (res.status !== 200) throw new Error(`parking submit answered ${res.status}: ${JSON.stringify(res.json)}`);
        ids.push(field(res.json, 'request_id'));
      }
      return ids;
    };
    const simJobs = await park(direct);
    const parked = await Promise.all(started.map(async (v) => (v.kind === 'gateway' ? park(v.door) : simJobs)));
    const variants: Variant[] = [
      { id: 'direct', label: 'direct to simulated fal', kind: 'direct', child: simChild, door: direct, statusIds: simJobs },
      ...started.map((v, i) => ({ ...v, statusIds: parked[i] ?? simJobs })),
    ];
    await setFaults({ latencyMs: 50 });
    opts.log(`fleet: ${variants.map((v) => v.id).join(', ')} up${rateLimits ? ' (gateway has rate limits: set non-binding)' : ''}`);
    return {
      sim,
      variants,
      byId: (id) => variants.find((v) => v.id === id),
      simStats,
      setFaults,
      rateLimits,
      postgres: database !== undefined,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The gateway's environment. The reconciler is parked (1 h): S2/S5 leave thousands of submitted
 * requests nobody polls, and its background settlement would load later rounds of other variants.
 * Limit settings that this gateway version may not know yet are harmless (unknown vars are ignored);
 * where they exist they are set so high they never bind.
 */
function gatewayEnv(def: GatewayDef, port: number, databaseUrl: string, adminToken: string, sim: SimOrigins): Record<string, string> {
  return {
    NODE_ENV: 'production',
    FAL_KEY: sim.falKey,
    FAL_RUN_URL: sim.run,
    FAL_QUEUE_URL: sim.queue,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: def.logLevel,
    STATUS_CACHE_MS: String(def.statusCacheMs),
    RECONCILE_INTERVAL_MS: '3600000',
    RATE_LIMIT_RPM: '10000000',
    POLL_RATE_LIMIT_RPM: '10000000',
    AUTH_FAILURES_PER_MINUTE: '1000000',
    MAX_MEGAPIXELS_PER_IMAGE: '200',
  };
}
