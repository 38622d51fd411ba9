/**
 * The database stops while fal generates (issue #9, 9d), with a real Postgres of its own (never the
 * shared one): fal's billed answer still reaches the client, the row stays reserved while the
 * database is away, and the held settlement lands from fal's bill once it is back.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const canRun = existsSync(`${PG_BIN}/initdb`) && process.getuid?.() === 0;
const asPostgres = (cmd: string) => execFileSync('su', ['postgres', '-c', cmd], { stdio: 'pipe' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe.skipIf(!canRun)('the ledger database stops mid-call (throwaway Postgres)', () => {
  let dir = '';
  let port = 0;
  const pgctl = (args: string) => asPostgres(`${PG_BIN}/pg_ctl -D ${dir}/data -w ${args} >/dev/null`);
  const start = () => pgctl(`-l ${dir}/log -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1" start`);
  let stores: Stores;
  let gw: TestGateway;
  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'fgw-outage-'));
    chmodSync(dir, 0o777);
    asPostgres(`${PG_BIN}/initdb -D ${dir}/data -A trust -U postgres >/dev/null`);
    start();
    stores = await openStores(`postgres://postgres@127.0.0.1:${port}/postgres`);
    gw = await startTestGateway({ stores, simLatencyMs: 1500 });
  }, 60_000);
  afterAll(async () => {
    await gw.close();
    try {
      pgctl('-m immediate stop');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers fal's answer while the database is down, then settles the row from fal's bill", async () => {
    const { key } = await gw.createKey({ name: 'outage' });
    const pending = fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    for (let i = 0; i < 200 && gw.sim.stats().calls.run === 0; i++) await sleep(10);
    pgctl('-m immediate stop');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { images: unknown[] }).images).toHaveLength(1);
    const falId = res.headers.get('x-fal-request-id') ?? '';
    expect(res.headers.get('x-gateway-cost-usd')).toBe('0.020000');
    start();
    let row = await stores.ledger.findByFalRequestId(falId).catch(() => null);
    for (let i = 0; i < 100 && row?.state !== 'settled'; i++) {
      await sleep(100);
      row = await stores.ledger.findByFalRequestId(falId).catch(() => null);
    }
    expect(row).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'billable_units', verified: true });
  }, 60_000);
});
