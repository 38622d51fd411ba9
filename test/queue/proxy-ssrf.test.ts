/**
 * Hostile `x-fal-target-url` values over the wire: every one is refused with 403 in fal's shape,
 * and neither a foreign loopback listener nor the simulated fal receives anything.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
let foreign: Server;
let foreignHits = 0;
let F = '';

beforeAll(async () => {
  foreign = createServer((_req, res) => {
    foreignHits++;
    res.end('foreign');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  F = `127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  gw = await startTestGateway();
  key = (await gw.createKey()).key;
});
afterAll(async () => {
  await gw.close();
  await new Promise((r) => foreign.close(r));
});

const M = 'fal-ai/stable-diffusion-v35-medium';
const ID = '0b6b5a8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

const hostile = (): [string, string][] => [
  ['POST', `http://${F}/${M}`],
  ['POST', `https://${F}/${M}`],
  ['GET', `http://${F}/`],
  ['POST', `http://127.0.0.1/${M}`],
  ['POST', `https://localhost/${M}`],
  ['POST', `https://[::1]/${M}`],
  ['POST', `https://169.254.169.254/latest/meta-data/`],
  ['POST', `https://2130706433/${M}`],
  ['POST', `https://0x7f000001/${M}`],
  ['POST', `http://fal.run/${M}`],
  ['POST', `ftp://fal.run/${M}`],
  ['POST', `//fal.run/${M}`],
  ['POST', `/${M}`],
  ['POST', `https://fal.run:443/${M}`],
  ['POST', `https://fal.run:8443/${M}`],
  ['POST', `https://fal.run./${M}`],
  ['POST', `https://fal.run@${F}/${M}`],
  ['POST', `https://${F}@fal.run/${M}`],
  ['POST', `https://user:pass@fal.run/${M}`],
  ['POST', `https://fal.run.evil.com/${M}`],
  ['POST', `https://evilfal.run/${M}`],
  ['POST', `https://fal.ai/${M}`],
  ['POST', `https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3`],
  ['POST', `https://rest.fal.ai/tokens/`],
  ['POST', `https://queue.falrun.com/${M}`],
  ['POST', `https://fal.run/fal-ai/flux/dev`],
  ['POST', `https://fal.run/fal-ai/stable-diffusion-v35-large`],
  ['POST', `https://fal.run/${M}-evil`],
  ['POST', `https://fal.run/${M}/extra`],
  ['POST', `https://fal.run/${M}/../flux/dev`],
  ['POST', `https://fal.run/${M}/%2e%2e/flux/dev`],
  ['POST', `https://fal.run/${M}/%2E%2E/x`],
  ['POST', `https://fal.run/fal-ai%2fstable-diffusion-v35-medium`],
  ['POST', `https://fal.run\\@${F}/${M}`],
  ['POST', `https://fal.run/${M}\r\nHost: ${F}`],
  ['POST', `https://fal.run/${M}#frag`],
  ['POST', `https://fal.run/${M}?x=1`],
  ['GET', `https://fal.run/${M}`],
  ['POST', `https://queue.fal.run/${M}/requests/${ID}/status`],
  ['GET', `https://queue.fal.run/${M}/requests/../../flux/requests/${ID}/status`],
  ['GET', `https://queue.fal.run/${M}/requests/${ID}/status?logs=2`],
  ['GET', `https://queue.fal.run/${M}/requests/${ID}/status?fal_webhook=https://x`],
  ['GET', `https://queue.fal.run/${M}/requests/${ID}/cancel`],
  ['PUT', `https://queue.fal.run/${M}/requests/${ID}`],
  ['GET', `https://queue.fal.run/${M}/requests/%2e%2e%2f${ID}`],
  ['GET', `https://fal.run/${M}/requests/${ID}/status`],
  ['POST', `https://queue.fal.run/${M}?fal_webhook=a&fal_webhook=b`],
  ['POST', `https://queue.fal.run/${M}?unknown=1`],
  ['POST', `https://xn--fal-9na.run/${M}`],
  ['POST', `https://fаl.run/${M}`],
  ['POST', ''],
];

it('refuses at least 40 hostile targets with 403 and sends nothing anywhere', async () => {
  const cases = hostile();
  expect(cases.length).toBeGreaterThanOrEqual(40);
  gw.sim.reset();
  for (const [method, target] of cases) {
    const headers: Record<string, string> = { authorization: `Key ${key}`, 'content-type': 'application/json' };
    // CR/LF and non-Latin-1 characters cannot even be sent in a header; the unit table covers them.
    if (/[^\x20-\x7e]/.test(target)) continue;
    headers['x-fal-target-url'] = target;
    const res = await fetch(`${gw.url}/api/fal/proxy`, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(validInput()) });
    expect(res.status, `${method} ${target}`).toBe(403);
    const body = (await res.json()) as { error_type: string; detail: string };
    expect(body.error_type).toBe('forbidden');
  }
  const missing = await fetch(`${gw.url}/api/fal/proxy`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: '{}' });
  expect(missing.status).toBe(403);
  await missing.arrayBuffer();
  expect(foreignHits).toBe(0);
  expect(gw.sim.calls()).toHaveLength(0);
});

it('passes an allowed target and builds the upstream URL from configuration, not the header', async () => {
  gw.sim.reset();
  const res = await fetch(`${gw.url}/api/fal/proxy`, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json', 'x-fal-target-url': `https://fal.run/${M}` },
    body: JSON.stringify(validInput()),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  const calls = gw.sim.calls();
  expect(calls).toHaveLength(1);
  expect(calls[0]?.headers['x-fal-target-url']).toBeUndefined();
  expect(foreignHits).toBe(0);
});
