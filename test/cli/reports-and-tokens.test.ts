/**
 * The CLI and a running gateway on one SQLite file: `usage` (table, CSV, JSON) reports what
 * GET /admin/usage reports, `keys show` what GET /v1/usage tells the key's holder, and a token from
 * `tokens mint` is accepted by the gateway and audited.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToMicro } from '../../src/domain/pricing.js';
import { openStores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { auditLines, cliOn } from './run-cli.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';
const APP = 'https://app.example.com';
const TOKEN_SECRET = randomBytes(24).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'fgw-cli-gw-'));
const cli = cliOn(`sqlite:${join(dir, 'gateway.db')}`, { TOKEN_SECRET });
let gw: TestGateway;
let a: { id: string; key: string };
let b: { id: string; key: string };

const admin = (path: string) => fetch(gw.url + path, { headers: { authorization: `Bearer ${gw.adminToken}` } });
const generate = async (credential: string, input: Record<string, unknown>, origin?: string) => {
  const res = await fetch(gw.url + RUN, { method: 'POST', headers: { authorization: `Key ${credential}`, 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body: JSON.stringify(validInput(input)) });
  await res.arrayBuffer();
  return res.status;
};
/** `$1.25` → 1250000, parsed as a decimal (not with the CLI's own formatter). */
const microOf = (cell: string) => {
  const m = /^\$(\d+)\.(\d{2,6})$/.exec(cell);
  if (!m) throw new Error(`not a money cell: ${cell}`);
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
};
/** The CLI's flags and the admin API's query parameters for the same filter. */
const API_PARAM: Record<string, string> = { '--key': 'key_id', '--group-by': 'group_by' };
const tableRows = (text: string) => text.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

beforeAll(async () => {
  gw = await startTestGateway({ stores: await openStores(cli.databaseUrl), env: { TOKEN_SECRET } });
  a = JSON.parse((await cli.ok('keys', 'create', '--name', 'alpha', '--team', 'research', '--budget-usd', '5', '--daily-usd', '1')).stdout) as { id: string; key: string };
  b = await gw.createKey({ name: 'beta' });
  await cli.ok('teams', 'set', 'research', '--monthly-usd', '50');
  for (const [key, size] of [[a.key, 'landscape_16_9'], [a.key, 'square_hd'], [b.key, 'portrait_4_3']] as const) expect(await generate(key, { image_size: size })).toBe(200);
}, 60_000);
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fal-gateway usage against a gateway on the same database', () => {
  it.each([[[]], [['--group-by', 'key']], [['--group-by', 'day']], [['--key', 'KEY_A', '--group-by', 'key']]])('%j: JSON and CSV equal /admin/usage, the table has the same numbers', async (flags) => {
    const args = flags.map((f) => (f === 'KEY_A' ? a.id : f));
    const query = new URLSearchParams();
    for (let i = 0; i < args.length; i += 2) query.set(API_PARAM[String(args[i])] ?? '', String(args[i + 1]));
    const api = (await (await admin(`/admin/usage?${query.toString()}`)).json()) as { requests: number; total_usd: number; reserved_usd: number; rows: { group: string; requests: number; spent_usd: number }[] };
    expect(api.total_usd).toBeGreaterThan(0);
    expect(JSON.parse((await cli.ok('usage', ...args, '--json')).stdout)).toEqual(api);
    query.set('format', 'csv');
    expect((await cli.ok('usage', ...args, '--csv')).stdout).toBe(await (await admin(`/admin/usage?${query.toString()}`)).text());

    const [header, ...rows] = tableRows((await cli.ok('usage', ...args)).stdout);
    const byKey = args.includes('key');
    expect(header).toEqual([api.rows.length > 0 ? args[args.indexOf('--group-by') + 1] : 'group', 'requests', 'spent', 'reserved', 'megapixels', 'billed_units', ...(byKey ? ['key_name'] : [])]);
    // Per key, the table names each key as the API does.
    if (byKey) expect(rows.slice(0, -1).map((r) => r[6])).toEqual(api.rows.map((r) => (r as { key_name?: string }).key_name));
    const expected = api.rows.length > 0 ? [...api.rows.map((r) => [r.group, r.requests, r.spent_usd]), ['total', api.requests, api.total_usd]] : [['all', api.requests, api.total_usd]];
    expect(rows.map((r) => [r[0], Number(r[1]), microOf(r[2] ?? '')])).toEqual(expected.map(([g, n, usd]) => [g, n, usdToMicro(Number(usd))]));
  }, 60_000);
});

describe('fal-gateway keys show', () => {
  it('reports the spend, reservations and remaining budgets GET /v1/usage gives the key holder', async () => {
    const self = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Key ${a.key}` } })).json()) as { spent_usd: number; remaining_usd: number; day: { spent_usd: number }; team_budgets: { month: { budget_usd: number; remaining_usd: number } } };
    expect(self.spent_usd).toBeGreaterThan(0);
    const shown = JSON.parse((await cli.ok('keys', 'show', a.id, '--json')).stdout) as Record<string, unknown> & { usage: unknown };
    expect(shown.usage).toEqual(self);
    expect(shown).toMatchObject({ id: a.id, name: 'alpha', team: 'research', budget_usd: 5 });
    expect(JSON.stringify(shown)).not.toContain(a.key);

    const text = (await cli.ok('keys', 'show', a.id)).stdout;
    expect(text).toMatch(new RegExp(`^id\\s+${a.id}$`, 'm'));
    const budgets = tableRows(text.slice(text.indexOf('budget  period')));
    const row = (scope: string, period: string) => budgets.find((r) => r[0] === scope && r[1] === period) ?? [];
    expect(microOf(row('key', 'lifetime')[2] ?? '')).toBe(usdToMicro(self.spent_usd));
    expect(microOf(row('key', 'lifetime')[5] ?? '')).toBe(usdToMicro(self.remaining_usd));
    expect(microOf(row('key', 'day')[2] ?? '')).toBe(usdToMicro(self.day.spent_usd));
    expect(microOf(row('team', 'month')[4] ?? '')).toBe(usdToMicro(self.team_budgets.month.budget_usd));
    expect(microOf(row('team', 'month')[5] ?? '')).toBe(usdToMicro(self.team_budgets.month.remaining_usd));
  }, 60_000);

  it('keys list is a table with every key and its budgets, and --json the key views', async () => {
    const [header, ...rows] = tableRows((await cli.ok('keys', 'list')).stdout);
    expect(header?.slice(0, 6)).toEqual(['id', 'name', 'team', 'kind', 'prefix', 'budget']);
    expect(rows.find((r) => r[0] === a.id)?.slice(1, 7)).toEqual(['alpha', 'research', 'secret', expect.stringMatching(/^fgw_sk_/), '$5.00', '$1.00']);
    expect(rows.find((r) => r[0] === b.id)?.[1]).toBe('beta');
    const listed = (await cli.ok('keys', 'list', '--json')).stdout;
    expect((JSON.parse(listed) as { id: string }[]).map((k) => k.id).sort()).toEqual([a.id, b.id].sort());
    expect(listed).not.toContain(a.key);
  }, 60_000);
});

describe('fal-gateway tokens mint', () => {
  it('mints a token the gateway accepts, with its caps, origins and end user, and audits the mint without the token', async () => {
    const minted = await cli.ok('tokens', 'mint', '--key', a.id, '--ttl-seconds', '600', '--max-usd', '0.5', '--max-images', '3', '--end-user', 'carol', '--origin', APP);
    const t = JSON.parse(minted.stdout) as { token: string; token_id: string; expires_at: string; max_usd: number; max_images: number; end_user: string; allowed_origins: string[] };
    expect(t).toMatchObject({ max_usd: 0.5, max_images: 3, end_user: 'carol', allowed_origins: [APP] });
    expect(Date.parse(t.expires_at) - Date.now()).toBeLessThanOrEqual(600_000);
    expect(minted.stderr).not.toContain(t.token);

    expect(await generate(t.token, {}, APP)).toBe(200);
    expect(await generate(t.token, {})).toBe(403);
    const me = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${t.token}`, origin: APP } })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ token_id: t.token_id, end_user: 'carol', max_usd: 0.5, images_used: 1, max_images: 3 });

    const [line] = auditLines(minted.stderr);
    expect(line).toMatchObject({ action: 'token.mint', actor: `cli:${userInfo().username}`, target: a.id, client_ip: null });
    const entries = await gw.stores.admins.listAudit({ limit: 100 });
    const entry = entries.find((e) => e.action === 'token.mint');
    expect(entry).toMatchObject({ actor: `cli:${userInfo().username}`, target: a.id, clientIp: null });
    expect(JSON.stringify(entries)).not.toContain(t.token);
  }, 60_000);

  it('a token signed with another TOKEN_SECRET is refused by the gateway', async () => {
    const other = cliOn(cli.databaseUrl, { TOKEN_SECRET: randomBytes(24).toString('hex') });
    const t = JSON.parse((await other.ok('tokens', 'mint', '--key', a.id)).stdout) as { token: string };
    expect(await generate(t.token, {})).toBe(401);
  }, 60_000);

  it('refuses invalid caps (exit 2), and unknown, revoked or publishable keys (exit 1), minting nothing', async () => {
    for (const [args, code, reason] of [
      [['--key', a.id, '--ttl-seconds', '5'], 2, 'expires_in'],
      [['--key', a.id, '--ttl-seconds', '4000'], 2, 'expires_in'],
      [['--key', a.id, '--origin', 'app.example.com'], 2, 'allowed_origins must be exact origins'],
      [['--key', 'key_nope'], 1, 'No key with id key_nope'],
    ] as const) {
      const r = await cli.run('tokens', 'mint', ...args);
      expect([r.code, r.stdout], args.join(' ')).toEqual([code, '']);
      expect(r.stderr).toContain(reason);
    }
    const pub = JSON.parse((await cli.ok('keys', 'create', '--name', 'page', '--publishable', '--origin', APP)).stdout) as { id: string };
    const refusedPub = await cli.run('tokens', 'mint', '--key', pub.id);
    expect([refusedPub.code, refusedPub.stderr]).toEqual([1, expect.stringContaining('Only a secret key can mint tokens')]);
    const gone = JSON.parse((await cli.ok('keys', 'create', '--name', 'gone')).stdout) as { id: string };
    await cli.ok('keys', 'revoke', gone.id);
    const refusedRevoked = await cli.run('tokens', 'mint', '--key', gone.id);
    expect([refusedRevoked.code, refusedRevoked.stderr]).toEqual([1, expect.stringContaining('is revoked')]);
    const noSecret = await cliOn(cli.databaseUrl).run('tokens', 'mint', '--key', a.id);
    expect([noSecret.code, noSecret.stderr]).toEqual([1, expect.stringContaining('needs TOKEN_SECRET or FAL_KEY')]);
    expect((await gw.stores.admins.listAudit({ limit: 100 })).filter((e) => e.action === 'token.mint').map((e) => e.target)).not.toContain(pub.id);
  }, 120_000);
});
