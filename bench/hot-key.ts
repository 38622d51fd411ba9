/**
 * Hot-key contention on Postgres (issue #12, item 4): N gateway instances (child processes, each
 * with its own pool) reserving and settling for ONE key — a public frontend's parent key, every
 * browser token counting against it — against the same load spread over N keys; with and without
 * the gateway-wide in-flight cap. Rounds interleaved; reports pairs/s and hot ÷ spread.
 *
 *   node --import tsx bench/hot-key.ts [--instances=4] [--conc=8] [--seconds=3] [--rounds=2] [--release=DIR]
 *
 * `--release=DIR` runs the same cases on another checkout's stores too (before/after in one run).
 * Each reservation reads its key row's limits in its transaction (freshLimits), as the gateway's do.
 *
 * Needs BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh schema per case, dropped after).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { openStores } from '../src/store/stores.js';
import { benchKey } from './lib/reservation.js';
import { median } from './lib/stats.js';

const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const INSTANCES = arg('instances', 4);
const CONC = arg('conc', 8);
const SECONDS = arg('seconds', 3);
const ROUNDS = arg('rounds', 2);
const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? '';
if (url === '') throw new Error('set BENCH_DATABASE_URL or TEST_DATABASE_URL');
const WORKER = join(import.meta.dirname, 'lib', 'hot-key-worker.ts');
const release = process.argv.find((a) => a.startsWith('--release='))?.slice('--release='.length);

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(text).finally(() => client.end());
}

/** Pairs per second of all instances together. */
async function run(hot: boolean, globalCap: string, storesModule: string): Promise<number> {
  const schema = `fgw_hot_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  try {
    // Migrated by the stores under test, which also make the key rows the reservations read (as
    // the gateway's do: freshLimits), each with a daily budget so its day counter is checked.
    const open = storesModule === '' ? openStores : ((await import(storesModule)) as { openStores: typeof openStores }).openStores;
    const stores = await open(url, { schema });
    for (const id of hot ? ['key_hot'] : Array.from({ length: INSTANCES }, (_, i) => `key_${i}`)) await stores.keys.create(benchKey(id));
    await stores.close();
    const children = Array.from({ length: INSTANCES }, (_, i) => {
      const key = hot ? 'key_hot' : `key_${i}`;
      const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, url, schema, key, String(SECONDS), String(CONC), globalCap, storesModule], { stdio: ['pipe', 'pipe', 'inherit'] });
      return { proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() };
    });
    for (const c of children) await c.lines.next();
    const start = Date.now() + 300;
    for (const c of children) c.proc.stdin.write(`${start}\n`);
    const outs = await Promise.all(children.map(async (c) => JSON.parse(String((await c.lines.next()).value)) as { pairs: number }));
    return outs.reduce((s, o) => s + o.pairs, 0) / SECONDS;
  } finally {
    await admin(`DROP SCHEMA ${schema} CASCADE`);
  }
}

const shapes = [
  { name: `${INSTANCES} instances × 1 key`, hot: true, cap: '' },
  { name: `${INSTANCES} instances × ${INSTANCES} keys`, hot: false, cap: '' },
  { name: `${INSTANCES} × 1 key, global in-flight cap`, hot: true, cap: '100000' },
  { name: `${INSTANCES} × ${INSTANCES} keys, global in-flight cap`, hot: false, cap: '100000' },
];
const variants = [{ name: 'this checkout', module: '' }, ...(release === undefined ? [] : [{ name: 'release', module: join(release, 'src/store/stores.ts') }])];
const cases = variants.flatMap((v) => shapes.map((s) => ({ ...s, variant: v.name, module: v.module, key: `${v.name}: ${s.name}` })));
const samples = new Map(cases.map((c) => [c.key, [] as number[]]));
for (let r = 0; r < ROUNDS; r++) for (const c of cases) samples.get(c.key)?.push(await run(c.hot, c.cap, c.module));
const lines = [`| stores | case (${CONC} in flight per instance) | pairs/s | × ${INSTANCES} keys, no cap (same stores) |`, '|---|---|---|---|'];
for (const c of cases) {
  const spread = median(samples.get(`${c.variant}: ${shapes[1]?.name ?? ''}`) ?? []);
  const m = median(samples.get(c.key) ?? []);
  lines.push(`| ${c.variant} | ${c.name} | ${m.toFixed(0)} | ${(m / spread).toFixed(2)} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
