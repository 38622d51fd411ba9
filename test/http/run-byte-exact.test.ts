/** The gateway relays fal's body byte for byte: no parse, no re-serialisation. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

// Odd spacing, key order, a seed far above 2^53 and a float with trailing zeros: any JSON round trip changes these bytes.
const BODY = '{ "seed" : 123456789012345678901234567890,\n "images":[{"url":"https://v3.fal.media/files/x.jpeg","width":512,"height":512}],"timings":{"inference":1.50},"has_nsfw_concepts":[false],"prompt":"\\u00e9t\\u00e9"}  ';

let gw: TestGateway;
let upstream: Server;
let seen: { auth?: string; body: string }[];

beforeAll(async () => {
  seen = [];
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-fal-request-id': 'req-123', 'x-fal-billable-units': '1', 'set-cookie': 'a=b', server: 'falsim' });
      res.end(BODY);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startTestGateway({ upstreamUrls: { run: origin, queue: origin } });
});
afterAll(async () => {
  await gw.close();
  await new Promise((r) => upstream.close(r));
});

it('relays the upstream body byte for byte and forwards the request body unchanged', async () => {
  const { key } = await gw.createKey();
  const requestBody = `{"prompt":"x",   "seed": 98765432109876543210}`;
  const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
    body: requestBody,
  });
  expect(res.status).toBe(200);
  expect(Buffer.from(await res.arrayBuffer()).toString('utf8')).toBe(BODY);
  expect(res.headers.get('x-fal-request-id')).toBe('req-123');
  expect(res.headers.get('set-cookie')).toBeNull();
  expect(seen.at(-1)?.body).toBe(requestBody);
  expect(seen.at(-1)?.auth).toBe(`Key ${gw.falKey}`);
});

it('still validates before forwarding (a valid body is required even for a custom upstream)', async () => {
  const { key } = await gw.createKey();
  const before = seen.length;
  const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(validInput({ num_images: 9 })),
  });
  expect(res.status).toBe(422);
  expect(seen.length).toBe(before);
});
