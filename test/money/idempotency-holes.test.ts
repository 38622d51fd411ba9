/**
 * Issue #9 item 6, over the wire: a first try that never reached fal (released `not_sent`) frees
 * its Idempotency-Key; keys are scoped per operation (a submit never replays a sync run); the
 * fingerprint covers fal_webhook and fal_max_queue_length; a reused key answers 422 in fal's
 * validation shape, which @fal-ai/client raises as a ValidationError without retrying.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError, createFalClient } from '@fal-ai/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';
const SUBMIT = '/queue/fal-ai/stable-diffusion-v35-medium';

const post = (gw: TestGateway, key: string, path: string, body: unknown, idem: string) =>
  fetch(gw.url + path, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json', 'idempotency-key': idem },
    body: JSON.stringify(body),
  });

describe('Idempotency-Key after a first try that never reached fal', () => {
  let gw: TestGateway;
  let fal: Server | undefined;
  let port = 0;
  beforeAll(async () => {
    // A port nobody listens on yet: the first try is refused at connect (nothing sent).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    gw = await startTestGateway({ upstreamUrls: { run: url, queue: url } });
  });
  afterAll(async () => {
    await gw.close();
    if (fal) await new Promise((resolve) => fal?.close(resolve));
  });

  it('lets the retry go through as a new attempt', async () => {
    const { id, key } = await gw.createKey({ name: 'not-sent' });
    const first = await post(gw, key, RUN, validInput(), 'ns-1');
    expect(first.status).toBe(502);
    expect(await first.json()).toMatchObject({ error_type: 'upstream_unreachable' });
    const firstId = first.headers.get('x-gateway-request-id') ?? '';
    expect(await gw.stores.ledger.get(firstId)).toMatchObject({ state: 'released', outcome: 'not_sent' });

    fal = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-fal-request-id': '11111111-1111-4111-8111-111111111111', 'x-fal-billable-units': '1' });
        res.end(JSON.stringify({ images: [{ url: 'https://example.invalid/a.jpg', width: 512, height: 512 }], seed: 7 }));
      });
    });
    await new Promise<void>((resolve) => fal?.listen(port, '127.0.0.1', resolve));

    const retry = await post(gw, key, RUN, validInput(), 'ns-1');
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ seed: 7 });
    // And now the key is the retry's: a third try replays it.
    const again = await post(gw, key, RUN, validInput(), 'ns-1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await again.arrayBuffer();
    const usage = (await (await fetch(`${gw.url}/admin/usage?key_id=${id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { total_usd: number; requests: number };
    expect(usage).toMatchObject({ total_usd: 0.02, requests: 1 });
  });
});

describe('Idempotency-Key scope and fingerprint', () => {
  let gw: TestGateway;
  let key: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    ({ key } = await gw.createKey({ name: 'scope', allowed_webhook_urls: ['https://hooks.example.com/fal'] }));
  });
  afterAll(() => gw.close());

  it('keeps sync runs and queue submits apart under one key', async () => {
    const ran = await post(gw, key, RUN, validInput(), 'shared-op');
    expect(ran.status).toBe(200);
    await ran.arrayBuffer();
    const submitted = await post(gw, key, SUBMIT, validInput(), 'shared-op');
    expect(submitted.status).toBe(200);
    expect(submitted.headers.get('idempotent-replayed')).toBeNull();
    expect(await submitted.json()).toMatchObject({ request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
  });

  it('treats another fal_webhook or fal_max_queue_length as another request', async () => {
    const first = await post(gw, key, SUBMIT, validInput(), 'hooked');
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const hooked = await post(gw, key, `${SUBMIT}?fal_webhook=${encodeURIComponent('https://hooks.example.com/fal/done')}`, validInput(), 'hooked');
    expect(hooked.status).toBe(422);
    expect(await hooked.json()).toMatchObject({ detail: [{ loc: ['header', 'idempotency-key'], type: 'idempotency_key_reused' }] });
    const capped = await post(gw, key, `${SUBMIT}?fal_max_queue_length=5`, validInput(), 'hooked');
    expect(capped.status).toBe(422);
    await capped.arrayBuffer();
    // The same request again still replays.
    const same = await post(gw, key, SUBMIT, validInput(), 'hooked');
    expect(same.headers.get('idempotent-replayed')).toBe('true');
    await same.arrayBuffer();
  });

  it('answers a reused key with 422 that @fal-ai/client raises as a ValidationError, without retrying', async () => {
    let sent = 0;
    const fal = createFalClient({
      credentials: key,
      proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: 'always' },
      fetch: (input, init) => {
        sent += 1;
        const headers = new Headers(init?.headers);
        headers.set('idempotency-key', 'client-reuse');
        return fetch(input, { ...init, headers });
      },
    });
    await fal.run('fal-ai/stable-diffusion-v35-medium', { input: { prompt: 'one', image_size: 'square' } });
    expect(sent).toBe(1);
    const err = await fal.run('fal-ai/stable-diffusion-v35-medium', { input: { prompt: 'two', image_size: 'square' } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).status).toBe(422);
    expect((err as ValidationError).fieldErrors).toMatchObject([{ loc: ['header', 'idempotency-key'], type: 'idempotency_key_reused' }]);
    expect(sent).toBe(2);
  });
});
