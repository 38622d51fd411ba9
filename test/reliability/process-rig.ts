/**
 * Real gateway processes for the failure matrix's crash, shutdown and outage rows: a fresh database
 * per scenario (a SQLite file, or a new Postgres database on TEST_DATABASE_URL), keys and usage
 * through the admin API, so what is checked is what an operator would see.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { usdToMicro } from '../../src/domain/pricing.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

export const ADMIN = 'admin-token-for-the-failure-matrix';
export const FAL_KEY = 'fal_failure_matrix_key';
const PG_BASE = process.env.TEST_DATABASE_URL;

export interface ProcessStore {
  name: 'sqlite' | 'postgres';
  skip: boolean;
  /** A new empty database URL, and how to drop it. */
  fresh(): Promise<{ url: string; drop(): Promise<void> }>;
}

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_BASE });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export const PROCESS_STORES: ProcessStore[] = [
  {
    name: 'sqlite',
    skip: false,
    fresh: () => Promise.resolve({ url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'fgw-matrix-')), 'gw.db')}`, drop: () => Promise.resolve() }),
  },
  {
    name: 'postgres',
    skip: PG_BASE === undefined || PG_BASE === '',
    async fresh() {
      const name = `fgw_matrix_${randomBytes(6).toString('hex')}`;
      await pgAdmin(`CREATE DATABASE ${name}`);
      const url = new URL(PG_BASE ?? '');
      url.pathname = `/${name}`;
      return { url: url.toString(), drop: () => pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
    },
  },
];

export function gatewayEnv(run: string, queue: string, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FAL_KEY,
    FAL_RUN_URL: run,
    FAL_QUEUE_URL: queue,
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: ADMIN,
    RUN_TIMEOUT_MS: '1000',
    POLL_TIMEOUT_MS: '1000',
    RECONCILE_INTERVAL_MS: '200',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export async function createKey(gw: GatewayProcess, name: string): Promise<{ id: string; key: string }> {
  const res = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, rpm: 100_000 }) });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

export interface Usage {
  spentMicro: number;
  reservedMicro: number;
  requests: number;
}

export async function usage(gw: GatewayProcess): Promise<Usage> {
  const res = await fetch(`${gw.url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const u = (await res.json()) as { total_usd: number; reserved_usd: number; requests: number };
  return { spentMicro: usdToMicro(u.total_usd), reservedMicro: usdToMicro(u.reserved_usd), requests: u.requests };
}

/** Polls usage until nothing is reserved (recovery done) or `ms` passes. */
export async function settledUsage(gw: GatewayProcess, ms = 20_000): Promise<Usage> {
  const until = Date.now() + ms;
  let u = await usage(gw);
  while (u.reservedMicro !== 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    u = await usage(gw);
  }
  return u;
}

export { startGatewayProcess, type GatewayProcess };
