/**
 * `GET /admin/requests/:id/images`: a queue request's image URLs read from fal's stored result, for
 * the console's thumbnails. Never a data URI, nothing for a sync run, and a row still open settles
 * from the result's headers like a client's own fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUESTS_PREFIX } from '../../src/domain/model.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 50 });
  key = (await gw.createKey({ name: 'thumbs' })).key;
});
afterAll(() => gw.close());

const admin = (path: string, credential = gw.adminToken) => gw.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${credential}` } });

async function submit(body: Record<string, unknown> = validInput()): Promise<string> {
  const res = await fetch(`${gw.url}/queue/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { request_id: string }).request_id;
}

/** Waits on the simulated fal itself, so the gateway sees no status poll of the job. */
async function completedAtFal(falRequestId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${gw.sim.queueUrl}${REQUESTS_PREFIX}/${falRequestId}/status`, { headers: { authorization: `Key ${gw.falKey}` } });
    const status = ((await res.json()) as { status: string }).status;
    if (status === 'COMPLETED') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('job did not complete');
}

const ledgerId = async (falRequestId: string) => (await gw.stores.ledger.findByFalRequestId(falRequestId))?.id ?? 'missing';

describe('GET /admin/requests/:id/images', () => {
  it("lists a finished queue job's image URLs, which load, and settles a row nobody fetched yet", async () => {
    const falId = await submit();
    await completedAtFal(falId);
    const id = await ledgerId(falId);
    expect((await gw.stores.ledger.get(id))?.state).toBe('reserved');

    const res = await admin(`/admin/requests/${id}/images`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; fal_request_id: string; images: { url: string; width: number; height: number }[] }>();
    expect(body).toMatchObject({ status: 'ok', fal_request_id: falId });
    expect(body.images).toHaveLength(1);
    expect(body.images[0]).toMatchObject({ width: 512, height: 512 });
    const image = await fetch(body.images[0]?.url ?? '');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\//);
    await image.arrayBuffer();
    expect((await gw.stores.ledger.get(id))).toMatchObject({ state: 'settled', settledMicro: 20_000, verified: true });
  });

  it('says not_ready while the job runs, and never passes on the data URIs of a sync_mode result', async () => {
    gw.sim.setFaults({ latencyMs: 600 });
    const running = await submit();
    try {
      expect(res(await admin(`/admin/requests/${await ledgerId(running)}/images`))).toMatchObject({ status: 'not_ready', images: [] });
    } finally {
      gw.sim.setFaults({ latencyMs: 50 });
    }
    await completedAtFal(running);

    const inline = await submit(validInput({ sync_mode: true }));
    await completedAtFal(inline);
    const answer = await admin(`/admin/requests/${await ledgerId(inline)}/images`);
    expect(res(answer)).toMatchObject({ status: 'inline', images: [] });
    expect(answer.body).not.toContain('data:');
  });

  it('has nothing for a sync run (fal keeps no result of one), and 404 for an unknown row', async () => {
    const run = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    expect(run.status).toBe(200);
    await run.arrayBuffer();
    const row = (await gw.stores.ledger.page({ limit: 1 }))[0];
    expect(row?.operation).toBe('run');
    expect(res(await admin(`/admin/requests/${row?.id ?? ''}/images`))).toMatchObject({ status: 'sync_run', images: [] });
    expect((await admin('/admin/requests/gw_nope/images')).statusCode).toBe(404);
  });

  it('is readable with a viewer credential and refused without one', async () => {
    const made = await gw.app.inject({ method: 'POST', url: '/admin/admins', headers: { authorization: `Bearer ${gw.adminToken}` }, payload: { name: 'finance', role: 'viewer' } });
    const viewer = made.json<{ secret: string }>().secret;
    const falId = await submit();
    await completedAtFal(falId);
    expect((await admin(`/admin/requests/${await ledgerId(falId)}/images`, viewer)).statusCode).toBe(200);
    expect((await gw.app.inject({ method: 'GET', url: `/admin/requests/${await ledgerId(falId)}/images` })).statusCode).toBe(401);
  });
});

function res(r: { statusCode: number; json: <T>() => T }): unknown {
  expect(r.statusCode).toBe(200);
  return r.json();
}
