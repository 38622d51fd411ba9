/**
 * One validation for the admin API and the CLI: the checks a schema cannot express live in the
 * services, so the same input gets the same refusal from both (400 bad_request on the wire, exit 2
 * with the same reason from the CLI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cliOn } from './run-cli.js';

const cli = cliOn();
let gw: TestGateway;
let key: { id: string; key: string };
let cliKey: string;

beforeAll(async () => {
  gw = await startTestGateway();
  key = await gw.createKey({ name: 'api' });
  cliKey = (JSON.parse((await cli.ok('keys', 'create', '--name', 'cli')).stdout) as { id: string }).id;
}, 60_000);
afterAll(() => gw.close());

const call = async (method: string, path: string, body: unknown, auth = `Bearer ${gw.adminToken}`) => {
  const res = await fetch(gw.url + path, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { detail: string; error_type: string } };
};

describe('the same refusal from the admin API and the CLI', () => {
  it.each([
    ['a webhook prefix that is not https', { name: 'w', allowed_webhook_urls: ['http://hooks.example.com/'] }, ['--webhook-url', 'http://hooks.example.com/'], 'allowed_webhook_urls must be https URLs without credentials'],
    ['a publishable key without origins', { name: 'p', kind: 'publishable' }, ['--publishable'], 'a publishable key needs allowed_origins'],
    ['an origin with a path', { name: 'o', allowed_origins: ['https://app.example.com/page'] }, ['--origin', 'https://app.example.com/page'], 'allowed_origins must be exact origins'],
    ['an expiry that is not a time', { name: 'e', expires_at: 'next tuesday' }, ['--expires-at', 'next tuesday'], 'expires_at must be an ISO-8601 time'],
  ])('keys create with %s', async (_what, body, flags, reason) => {
    const api = await call('POST', '/admin/keys', body);
    expect([api.status, api.body.error_type]).toEqual([400, 'bad_request']);
    expect(api.body.detail).toContain(reason);
    const r = await cli.run('keys', 'create', '--name', String(body.name), ...flags);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toContain(reason);
  }, 60_000);

  it('keys update with an origin that is not exact', async () => {
    const api = await call('PATCH', `/admin/keys/${key.id}`, { allowed_origins: ['app.example.com'] });
    expect([api.status, api.body.detail]).toEqual([400, expect.stringContaining('allowed_origins must be exact origins')]);
    const r = await cli.run('keys', 'update', cliKey, '--origin', 'app.example.com');
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('allowed_origins must be exact origins')]);
  }, 60_000);

  it('tokens mint with an origin that is not exact', async () => {
    const api = await call('POST', '/v1/tokens', { allowed_origins: ['app.example.com'] }, `Bearer ${key.key}`);
    expect([api.status, api.body.detail]).toEqual([400, expect.stringContaining('allowed_origins must be exact origins')]);
    const r = await cliOn(cli.databaseUrl, { TOKEN_SECRET: 'x'.repeat(32) }).run('tokens', 'mint', '--key', cliKey, '--origin', 'app.example.com');
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('allowed_origins must be exact origins')]);
  }, 60_000);
});
