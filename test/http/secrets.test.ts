/** No secret (fal key, admin token, client keys or their hashes) in any response or log line. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashKey } from '../../src/domain/keys.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

it('keeps every secret out of responses and logs across a mixed session', async () => {
  const responses: string[] = [];
  const record = async (res: Response) => {
    const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
    responses.push(`${res.status}\n${headers}\n${await res.text()}`);
  };
  const { id, key } = await gw.createKey({ name: 'secretive' });
  const other = await gw.createKey({ name: 'other' });
  const RUN = `${gw.url}/fal-ai/stable-diffusion-v35-medium`;
  const json = { 'content-type': 'application/json' };

  await record(await fetch(RUN, { method: 'POST', headers: { ...json, authorization: `Key ${key}` }, body: JSON.stringify(validInput()) }));
  await record(await fetch(RUN, { method: 'POST', headers: { ...json, authorization: `Bearer ${key}` }, body: '{"prompt": 1}' }));
  await record(await fetch(RUN, { method: 'POST', headers: { ...json, authorization: `Key ${key}` }, body: '{bad json' }));
  await record(await fetch(RUN, { method: 'POST', headers: { ...json, authorization: `Key ${key}` }, body: JSON.stringify(validInput({ prompt: '[sim:error]' })) }));
  await record(await fetch(RUN, { method: 'POST', headers: { ...json, authorization: `Key ${key}-wrong` }, body: '{}' }));
  await record(await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${gw.adminToken}-wrong` } }));
  await record(await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${gw.adminToken}` } }));
  await record(await fetch(`${gw.url}/admin/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.adminToken}` } }));
  await record(await fetch(RUN, { method: 'POST', headers: { ...json, authorization: `Key ${key}` }, body: JSON.stringify(validInput()) }));
  await record(await fetch(`${gw.url}/no/such/route?token=${'x'.repeat(4)}`, { headers: { authorization: `Key ${other.key}` } }));

  expect(gw.logs.length).toBeGreaterThan(5);
  const secrets = [gw.falKey, gw.adminToken, key, other.key, hashKey(key), hashKey(other.key)];
  const everything = [...responses, ...gw.logs].join('\n');
  for (const s of secrets) expect(everything).not.toContain(s);
  // The request lines carry what an operator needs instead.
  const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  expect(lines.some((l) => l.keyId === id && typeof l.reqId === 'string' && l.op === 'run')).toBe(true);
});
