/**
 * The CLI on Postgres (a fresh database, dropped afterwards), next to a gateway on the same
 * database: keys made by the CLI generate, `usage --json` equals /admin/usage, `keys show` equals
 * /v1/usage, a minted token is accepted, and each CLI change is in the audit log.
 * Runs when TEST_DATABASE_URL is set.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { cliOn } from './run-cli.js';

const base = process.env.TEST_DATABASE_URL;
const TOKEN_SECRET = randomBytes(24).toString('hex');
const dbName = `fgw_cli_${randomBytes(6).toString('hex')}`;

async function adminSql(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe.skipIf(!base)('fal-gateway CLI on Postgres', () => {
  let gw: TestGateway;
  let cli: ReturnType<typeof cliOn>;

  beforeAll(async () => {
    await adminSql(`CREATE DATABASE ${dbName}`);
    const url = new URL(base ?? '');
    url.pathname = `/${dbName}`;
    cli = cliOn(url.toString(), { TOKEN_SECRET });
    gw = await startTestGateway({ stores: await openStores(cli.databaseUrl), env: { TOKEN_SECRET } });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await adminSql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it('creates a key that generates, reports what the API reports, mints a token the gateway accepts, and audits it all', async () => {
    const key = JSON.parse((await cli.ok('keys', 'create', '--name', 'pg-cli', '--budget-usd', '2')).stdout) as { id: string; key: string };
    const run = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    expect(run.status).toBe(200);
    await run.arrayBuffer();

    const api = (await (await fetch(`${gw.url}/admin/usage?group_by=key`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { total_usd: number };
    expect(api.total_usd).toBeGreaterThan(0);
    expect(JSON.parse((await cli.ok('usage', '--group-by', 'key', '--json')).stdout)).toEqual(api);
    const self: unknown = await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Key ${key.key}` } })).json();
    expect((JSON.parse((await cli.ok('keys', 'show', key.id, '--json')).stdout) as { usage: unknown }).usage).toEqual(self);
    expect((await cli.ok('keys', 'list')).stdout).toContain(key.id);

    const token = JSON.parse((await cli.ok('tokens', 'mint', '--key', key.id, '--max-images', '1')).stdout) as { token: string; token_id: string };
    const me = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${token.token}` } })).json()) as { token_id: string };
    expect(me.token_id).toBe(token.token_id);

    await cli.ok('keys', 'update', key.id, '--rpm', '30');
    await cli.ok('keys', 'revoke', key.id);
    const entries = (await gw.stores.admins.listAudit({ limit: 100 })).filter((e) => e.target === key.id);
    expect(entries.map((e) => e.action)).toEqual(['key.revoke', 'key.update', 'token.mint', 'key.create']);
    for (const e of entries) expect([e.actor, e.clientIp]).toEqual([`cli:${userInfo().username}`, null]);
    expect(JSON.stringify(entries)).not.toContain(key.key);
    expect(JSON.stringify(entries)).not.toContain(token.token);
  }, 120_000);
});
