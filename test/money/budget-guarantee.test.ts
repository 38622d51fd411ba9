/**
 * Issue #9 item 4: the hard budget rests on the reservation being an upper bound of fal's bill.
 * - PRICE_ROUNDING=exact only changes the estimate: the hold still covers fal's whole-megapixel
 *   rounding per image, so 10 concurrent runs on a $0.10 key spend at most $0.10 (was $0.16).
 * - When fal bills above the reservation anyway (a rule the gateway does not know), the row is an
 *   overrun: flagged, logged (warn, with ledger id, key and amounts), counted in usage, and the
 *   key's next request is refused because its budget is spent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';

const run = (gw: TestGateway, key: string, body: unknown) =>
  fetch(gw.url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({
    status: r.status,
    headers: r.headers,
    body: await r.text(),
  }));

const usage = async (gw: TestGateway, keyId: string) =>
  (await (await fetch(`${gw.url}/admin/usage?key_id=${keyId}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as {
    total_usd: number;
    reserved_usd: number;
    requests: number;
    overruns: number;
  };

describe('PRICE_ROUNDING=exact with fal billing whole megapixels', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { PRICE_ROUNDING: 'exact' }, simLatencyMs: 50 });
  });
  afterAll(() => gw.close());

  it('never spends above a $0.10 budget with 10 concurrent square_hd runs', async () => {
    // Exact estimate $0.020972 per image, fal bills 2 whole megapixels = $0.04.
    const { id, key } = await gw.createKey({ name: 'exact', budget_usd: 0.1, rpm: 100_000 });
    gw.sim.reset();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => run(gw, key, validInput({ prompt: `fox ${i}`, image_size: 'square_hd' }))));
    const ok = answers.filter((a) => a.status === 200);
    expect(answers.filter((a) => a.status !== 200).every((a) => a.status === 402)).toBe(true);
    expect(ok).toHaveLength(2);
    // A refusal quotes the hold it could not place, not the lower exact estimate.
    const refused = answers.find((a) => a.status === 402);
    expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({ error_type: 'budget_exceeded', cost_usd: 0.04, remaining_usd: 0.02 });
    const u = await usage(gw, id);
    expect(u).toMatchObject({ total_usd: 0.08, reserved_usd: 0, requests: 2, overruns: 0 });
    expect(gw.sim.stats().billedUnits).toBe(4);
    // The displayed figures follow what fal billed.
    expect(ok[0]?.headers.get('x-gateway-cost-usd')).toBe('0.040000');
  });
});

describe('a settlement above its reservation (fal bills more than any known rule)', () => {
  let gw: TestGateway;
  let fal: Server;
  let calls = 0;
  beforeAll(async () => {
    // A stand-in fal that bills 5 units for anything: no supported rule gives that for 512×512.
    fal = createServer((req, res) => {
      calls += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-fal-request-id': `0000000${calls}-0000-4000-8000-000000000000`, 'x-fal-billable-units': '5' });
        res.end(JSON.stringify({ images: [{ url: 'https://example.invalid/a.jpg', width: 512, height: 512 }], seed: 1 }));
      });
    });
    await new Promise<void>((resolve) => fal.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(fal.address() as AddressInfo).port}`;
    gw = await startTestGateway({ upstreamUrls: { run: url, queue: url } });
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((resolve) => fal.close(resolve));
  });

  it('flags, logs and counts the overrun, and refuses the key until its budget allows', async () => {
    const { id, key } = await gw.createKey({ name: 'overrun', budget_usd: 0.05 });
    const first = await run(gw, key, validInput());
    expect(first.status).toBe(200);
    expect(first.headers.get('x-gateway-cost-usd')).toBe('0.100000');
    expect(first.headers.get('x-gateway-budget-remaining-usd')).toBe('0.000000');
    const ledgerId = first.headers.get('x-gateway-request-id') ?? '';
    expect(await gw.stores.ledger.get(ledgerId)).toMatchObject({ state: 'settled', quotedMicro: 20_000, settledMicro: 100_000, overrun: true });

    await expect.poll(() => gw.logs.some((l) => l.includes('ledger overrun')), { timeout: 5_000 }).toBe(true);
    const line = JSON.parse(gw.logs.find((l) => l.includes('ledger overrun')) ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, ledger_id: ledgerId, key_id: id, quoted_micro: 20_000, settled_micro: 100_000, overrun_micro: 80_000, settle_source: 'billable_units' });
    expect(JSON.stringify(line)).not.toContain(key);

    expect(await usage(gw, id)).toMatchObject({ total_usd: 0.1, requests: 1, overruns: 1 });
    const next = await run(gw, key, validInput());
    expect(next.status).toBe(402);
    expect(JSON.parse(next.body)).toMatchObject({ error_type: 'budget_exceeded', remaining_usd: 0, budget_usd: 0.05 });
    expect(calls).toBe(1);
  });
});
