/** A settlement above its reservation is counted as an overrun (count and micro-USD above the hold), next to the log line it already writes. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { scrape, sum } from '../helpers/prometheus.js';

let gw: TestGateway;
let fal: Server;

beforeAll(async () => {
  // A stand-in fal that bills 5 units for anything: no supported rule gives that for a square image.
  fal = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-fal-request-id': '00000001-0000-4000-8000-000000000000', 'x-fal-billable-units': '5' });
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

it('counts the overrun and the micro-USD settled above the reservation', async () => {
  const { id, key } = await gw.createKey({ name: 'over', rpm: 1000 });
  const res = await fetch(gw.url + '/fal-ai/stable-diffusion-v35-medium', { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  const m = await scrape(gw.url);
  // Held: 1 whole megapixel at $0.02 = 20,000 micro-USD; fal billed 5 units = 100,000.
  expect(sum(m, 'gateway_settlement_overruns_total')).toBe(1);
  expect(sum(m, 'gateway_settlement_overrun_micro_usd_total')).toBe(80_000);
  expect(sum(m, 'gateway_spend_micro_usd_total', { key_id: id })).toBe(100_000);
  expect(sum(m, 'gateway_settlements_total', { source: 'billable_units' })).toBe(1);
  expect(gw.logs.some((l) => l.includes('ledger overrun'))).toBe(true);
});
