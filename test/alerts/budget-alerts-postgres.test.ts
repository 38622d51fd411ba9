/**
 * Budget alerts across two gateway instances (two apps, each with its own caches and alert sender,
 * on one Postgres schema): as a key's and its team's spend crosses 50, 80 and 100 % of their
 * lifetime budgets, each threshold reaches the operator's webhook exactly once, signed. Requests go
 * to both instances at once, so both settle and both evaluate the same thresholds. Needs TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { eventually, startAlertReceiver, type AlertReceiver } from '../helpers/alert-receiver.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';

const SECRET = 'alert-secret-for-the-two-instance-test';

describe.skipIf(postgresSkipReason !== undefined)('budget alerts across two instances on Postgres', () => {
  let schema: string;
  let receiver: AlertReceiver;
  let gws: TestGateway[] = [];

  beforeAll(async () => {
    schema = await createSchema();
    receiver = await startAlertReceiver(SECRET);
    const env = { ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_SECRET: SECRET, RECONCILE_INTERVAL_MS: '3600000' };
    gws = [];
    for (let i = 0; i < 2; i++) gws.push(await startTestGateway({ env, stores: await openStores(postgresUrl(), { schema }) }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.close()));
    await receiver.close();
    await dropSchema(schema);
  });

  const run = async (gw: TestGateway, key: string): Promise<number> => {
    const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    await res.arrayBuffer();
    return res.status;
  };

  it('sends each threshold of the key and of its team once, however many instances settle', async () => {
    const [a, b] = gws as [TestGateway, TestGateway];
    // The price of one request, from a key without a budget (alerts nothing).
    const probe = await a.createKey({ name: 'probe', rpm: 1000 });
    expect(await run(a, probe.key)).toBe(200);
    const one = (await a.stores.ledger.counterTotals([{ scope: `key:${probe.id}`, bucket: 'all' }]))[0]?.spentMicro ?? 0;
    expect(one).toBeGreaterThan(0);

    // Budgets of exactly 10 requests: thresholds are crossed at requests 5, 8 and 10.
    const team = `alerts-team-${Date.now()}`;
    const put = await fetch(`${a.url}/admin/teams/${team}`, { method: 'PUT', headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ budget_usd: (10 * one) / 1e6 }) });
    expect(put.status).toBeLessThan(300);
    const { id, key } = await a.createKey({ name: 'spender', team, rpm: 1000, budget_usd: (10 * one) / 1e6 });
    await b.createKey({ name: 'other', rpm: 1000 }); // b has seen the admin API too (nothing relies on it)

    // Two at a time, one on each instance.
    for (let i = 0; i < 5; i++) expect(await Promise.all([run(a, key), run(b, key)])).toEqual([200, 200]);
    expect(await run(a, key)).toBe(402);

    const budgetAlerts = () => receiver.accepted.filter((x) => x.type === 'budget_threshold');
    await eventually(() => budgetAlerts().length >= 6, 'six budget alerts');
    // Late duplicates would arrive within this wait; none may.
    await new Promise((r) => setTimeout(r, 1_000));
    const seen = budgetAlerts()
      .map((x) => x.details as Record<string, unknown>)
      .map((d) => `${String(d.scope)}:${String(d.id)}:${String(d.period)}:${String(d.threshold)}`)
      .sort();
    expect(seen).toEqual([`key:${id}:lifetime:100`, `key:${id}:lifetime:50`, `key:${id}:lifetime:80`, `team:${team}:lifetime:100`, `team:${team}:lifetime:50`, `team:${team}:lifetime:80`]);
    expect(receiver.forged).toBe(0);
    // One warn line per alert, on whichever instance won its claim.
    const lines = [...a.logs, ...b.logs].filter((l) => l.includes('"alert":"budget_threshold"'));
    expect(lines).toHaveLength(6);
  }, 60_000);
});
