/**
 * The README's verification example, run as written (only its JWKS_URL pointed at the test
 * gateway) against a delivery the gateway really relayed: it accepts it, and refuses it with one
 * body byte changed or another key's id in the user header.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, startReceiver, submit, webhookKey, eventually, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
let dir: string | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  rig = undefined;
  receiver = undefined;
  dir = undefined;
});

type Verify = (headers: Record<string, string | string[] | undefined>, body: Buffer) => Promise<boolean>;

function readmeVerifier(jwksUrl: string): Promise<{ verifyGatewayWebhook: Verify }> {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('**Verifying a relayed delivery.**'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('no js example in the README section');
  dir = mkdtempSync(join(tmpdir(), 'fgw-readme-'));
  const file = join(dir, 'verify.mjs');
  writeFileSync(file, code.replace("'https://gateway.example.com/.well-known/jwks.json'", JSON.stringify(jwksUrl)));
  return import(pathToFileURL(file).href) as Promise<{ verifyGatewayWebhook: Verify }>;
}

describe('the README verification example', () => {
  it('accepts a relayed delivery and refuses a tampered one', async () => {
    rig = await startRig();
    const g = rig.gateways[0];
    if (g === undefined) throw new Error('no gateway');
    const jwks = `${g.url}/.well-known/jwks.json`;
    receiver = await startReceiver(() => jwks);
    const key = await webhookKey(rig, receiver.url);
    await submit(g.url, key.key, receiver.url);
    await eventually(() => receiver?.accepted.length === 1, 'the relay');
    const got = receiver.accepted[0];
    if (got === undefined) throw new Error('no delivery');
    const { verifyGatewayWebhook } = await readmeVerifier(jwks);
    expect(await verifyGatewayWebhook(got.headers, got.body)).toBe(true);
    const tampered = Buffer.from(got.body);
    const at = tampered.length - 2;
    tampered.writeUInt8((tampered.readUInt8(at) ^ 1) & 0xff, at);
    expect(await verifyGatewayWebhook(got.headers, tampered)).toBe(false);
    expect(await verifyGatewayWebhook({ ...got.headers, 'x-gateway-webhook-user-id': 'key_other' }, got.body)).toBe(false);
  });
});
