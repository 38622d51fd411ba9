/**
 * The store-layer decision benchmark (issue #12): reserve + settle pairs through the gateway's plan
 * layer (src/store/sql/) and through Kysely doing the same statements (bench/lib/kysely-ledger.ts),
 * on SQLite and on Postgres, at concurrency 1 and 8, rounds interleaved; ratios are to the plan
 * layer in the same run. `--release=DIR` adds the stores of another checkout (e.g. the release).
 *
 *   node --import tsx bench/store-layer.ts [--pairs=1500] [--rounds=3] [--release=/path/to/checkout]
 *
 * Postgres joins when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (fresh schemas, dropped after).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ReserveInput, SettleInput } from '../src/store/ledger-store.js';
import { openPostgres } from '../src/store/sql/postgres-pool.js';
import { openStores, type Stores } from '../src/store/stores.js';
import { KyselyLedger } from './lib/kysely-ledger.js';
import { benchReservation, benchSettlement, forRelease } from './lib/reservation.js';
import { median } from './lib/stats.js';

interface Ledgerish {
  reserve(input: ReserveInput): Promise<unknown>;
  settle(id: string, input: SettleInput): Promise<unknown>;
  close(): Promise<void>;
}
type Backend = 'sqlite' | 'postgres';
type Opener = (backend: Backend) => Promise<Ledgerish>;

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const PAIRS = Number(arg('pairs') ?? 1500);
const ROUNDS = Number(arg('rounds') ?? 3);
const release = arg('release');
const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const cleanups: (() => Promise<void>)[] = [];

async function location(backend: Backend): Promise<{ url: string; schema?: string; file?: string }> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'fgw-layer-'));
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    return { url: `sqlite:${join(dir, 'gateway.db')}`, file: join(dir, 'gateway.db') };
  }
  const schema = `fgw_layer_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  cleanups.push(() => admin(`DROP SCHEMA ${schema} CASCADE`));
  return { url: serverUrl ?? '', schema };
}

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(text).finally(() => client.end());
}

const fromStores = (stores: Stores): Ledgerish => ({ reserve: (i) => stores.ledger.reserve(i), settle: (id, s) => stores.ledger.settle(id, s), close: () => stores.close() });

const openers: Record<string, Opener> = {
  plan: async (backend) => {
    const at = await location(backend);
    return fromStores(await openStores(at.url, { schema: at.schema, max: 10 }));
  },
  kysely: async (backend) => {
    const at = await location(backend);
    await (await openStores(at.url, { schema: at.schema })).close();
    if (at.file !== undefined) {
      const db = new Database(at.file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const k = new KyselyLedger({ sqlite: db });
      return { reserve: (i) => k.reserve(i), settle: (id, s) => k.settle(id, s, s.verified ? 1 : 0), close: () => k.destroy() };
    }
    const k = new KyselyLedger({ pool: await openPostgres(at.url, { schema: at.schema, max: 10 }) });
    return { reserve: (i) => k.reserve(i), settle: (id, s) => k.settle(id, s, s.verified), close: () => k.destroy() };
  },
};
if (release !== undefined) {
  openers.release = async (backend) => {
    const mod = (await import(join(release, 'src/store/stores.ts'))) as { openStores: typeof openStores };
    const at = await location(backend);
    const stores = await mod.openStores(at.url, { schema: at.schema, max: 10 });
    return { ...fromStores(stores), reserve: (i) => stores.ledger.reserve(forRelease(i)) };
  };
}

const input = (): ReserveInput => benchReservation('key_bench', 'design', { lifetime: 1e15 });
const settle = benchSettlement;

/** Pairs per second of `PAIRS` reserve + settle pairs, `concurrency` at a time. */
async function measure(ledger: Ledgerish, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < PAIRS) {
      const i = input();
      await ledger.reserve(i);
      await ledger.settle(i.id, settle());
    }
  };
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return PAIRS / (Number(process.hrtime.bigint() - t) / 1e9);
}

const backends: Backend[] = serverUrl ? ['sqlite', 'postgres'] : ['sqlite'];
const lines = ['| database | concurrency | variant | pairs/s (median of rounds) | × plan layer |', '|---|---|---|---|---|'];
try {
  for (const backend of backends) {
    const ledgers = new Map<string, Ledgerish>();
    for (const [name, open] of Object.entries(openers)) ledgers.set(name, await open(backend));
    for (const concurrency of [1, 8]) {
      const samples = new Map<string, number[]>();
      for (const [name, ledger] of ledgers) await measure(ledger, concurrency).then(() => samples.set(name, [])); // warm-up
      for (let round = 0; round < ROUNDS; round++) for (const [name, ledger] of ledgers) samples.get(name)?.push(await measure(ledger, concurrency));
      const base = median(samples.get('plan') ?? []);
      for (const [name, s] of samples) lines.push(`| ${backend} | ${concurrency} | ${name} | ${median(s).toFixed(0)} | ${(median(s) / base).toFixed(2)} |`);
    }
    for (const ledger of ledgers.values()) await ledger.close();
  }
} finally {
  for (const c of cleanups.reverse()) await c();
}
process.stdout.write(`${lines.join('\n')}\n`);
