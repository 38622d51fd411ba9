/**
 * /metrics behind METRICS_TOKEN (constant-time compared, never logged); request counters that sum
 * across two instances sharing one ledger; and budget gauges that a scrape storm reads from the
 * database at most once per snapshot window.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { memoryStores } from '../../src/store/stores.js';
import { SNAPSHOT_MS } from '../../src/observability/budget-gauges.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { parseMetrics, scrape, sum } from '../helpers/prometheus.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';
const TOKEN = 'metrics-token-0123456789abcdef';
const opened: TestGateway[] = [];
afterAll(async () => {
  for (const g of opened) await g.close();
});

const run = (gw: TestGateway, key: string) =>
  fetch(gw.url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe('METRICS_TOKEN', () => {
  it('refuses a scrape without the bearer token or with a wrong one, and never logs it', async () => {
    const gw = await startTestGateway({ env: { METRICS_TOKEN: TOKEN } });
    opened.push(gw);
    const none = await fetch(`${gw.url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error_type: string }).error_type).toBe('unauthorized');
    const wrong = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    const right = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseMetrics(await right.text()).length).toBeGreaterThan(0);
    expect(gw.logs.join('\n')).not.toContain(TOKEN);
  });

  it('is open when no token is configured', async () => {
    const gw = await startTestGateway();
    opened.push(gw);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });
});

describe('two instances sharing a ledger', () => {
  it("sum their request counters to the requests sent, and their spend to the ledger's", async () => {
    const stores = memoryStores();
    const a = await startTestGateway({ stores });
    const b = await startTestGateway({ stores });
    opened.push(a, b);
    const { id, key } = await a.createKey({ name: 'both', budget_usd: 3, rpm: 1000 });
    const sent = { a: 5, b: 7 };
    for (let i = 0; i < sent.a; i++) expect(await run(a, key)).toBe(200);
    for (let i = 0; i < sent.b; i++) expect(await run(b, key)).toBe(200);
    const [ma, mb] = await Promise.all([scrape(a.url), scrape(b.url)]);
    if (!ma || !mb) throw new Error('no scrape');
    expect(sum(ma, 'gateway_requests_total', { operation: 'run' })).toBe(sent.a);
    expect(sum(mb, 'gateway_requests_total', { operation: 'run' })).toBe(sent.b);
    expect(sum(ma, 'gateway_requests_total', { operation: 'run' }) + sum(mb, 'gateway_requests_total', { operation: 'run' })).toBe(sent.a + sent.b);
    const usage = (await (await fetch(`${a.url}/admin/usage`, { headers: { authorization: `Bearer ${a.adminToken}` } })).json()) as { total_usd: number; requests: number };
    expect(usage.requests).toBe(sent.a + sent.b);
    expect(sum(ma, 'gateway_spend_micro_usd_total') + sum(mb, 'gateway_spend_micro_usd_total')).toBe(Math.round(usage.total_usd * 1e6));
    // The budget gauge is a global fact: both instances report the same value (aggregate with max).
    const remaining = (m: typeof ma) => sum(m, 'gateway_key_budget_remaining_micro_usd', { key_id: id, period: 'lifetime' });
    expect(remaining(ma)).toBe(remaining(mb));
    expect(remaining(ma)).toBe(3_000_000 - Math.round(usage.total_usd * 1e6));
  });
});

describe('scrape storm', () => {
  it('reads the budgets from the store at most once per snapshot window', async () => {
    const stores = memoryStores();
    let lists = 0;
    const list = stores.keys.list.bind(stores.keys);
    stores.keys.list = () => {
      lists++;
      return list();
    };
    const gw = await startTestGateway({ stores });
    opened.push(gw);
    await gw.createKey({ name: 'b', budget_usd: 1 });
    const before = lists;
    const started = Date.now();
    await Promise.all(Array.from({ length: 30 }, () => scrape(gw.url)));
    for (let i = 0; i < 10; i++) await scrape(gw.url);
    const windows = Math.ceil((Date.now() - started) / SNAPSHOT_MS) + 1;
    expect(lists - before).toBeGreaterThanOrEqual(1);
    expect(lists - before).toBeLessThanOrEqual(windows);
  });
});

describe('store unreachable at scrape time', () => {
  it('still answers, leaving the database-read gauges out rather than reporting false values', async () => {
    const stores = memoryStores();
    const gw = await startTestGateway({ stores });
    opened.push(gw);
    await gw.createKey({ name: 'b', budget_usd: 1 });
    stores.keys.list = () => Promise.reject(new Error('database down'));
    const m = await scrape(gw.url);
    expect(m.filter((s) => s.name.includes('budget') || s.name === 'gateway_reservations_in_flight')).toEqual([]);
    expect(sum(m, 'gateway_requests_total', { operation: 'admin' })).toBe(1);
    expect(gw.logs.join('\n')).toContain('metrics: could not read budgets from the store');
  });
});
