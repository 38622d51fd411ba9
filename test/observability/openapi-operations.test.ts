/** /docs lists /metrics and /readyz, and the live /readyz answers (ready and not ready) match the documented schemas. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, expect, it } from 'vitest';
import { memoryStores } from '../../src/store/stores.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

type Json = Record<string, unknown>;
const opened: TestGateway[] = [];
afterAll(async () => {
  for (const g of opened) await g.close();
});

const schemaAt = (doc: Json, path: string, status: string): Json => {
  const op = ((doc.paths as Record<string, Json>)[path]?.get ?? {}) as { responses: Record<string, { content: Record<string, { schema: Json }> }> };
  const schema = op.responses[status]?.content['application/json']?.schema;
  if (!schema) throw new Error(`no schema for ${path} ${status}`);
  return schema;
};

it('documents /metrics and /readyz in /docs, and /readyz answers as documented', async () => {
  const down = memoryStores();
  down.ping = () => Promise.reject(new Error('store down'));
  const [ok, failing] = await Promise.all([startTestGateway(), startTestGateway({ stores: down })]);
  opened.push(ok, failing);
  const doc = (await (await fetch(`${ok.url}/docs/openapi.json`)).json()) as Json;
  expect(Object.keys(doc.paths as Json)).toEqual(expect.arrayContaining(['/metrics', '/readyz']));
  const ajv = new Ajv2020({ strict: false });

  const ready = await fetch(`${ok.url}/readyz`);
  expect(ready.status).toBe(200);
  const readyBody: unknown = await ready.json();
  expect(ajv.validate(schemaAt(doc, '/readyz', '200'), readyBody), JSON.stringify(ajv.errors)).toBe(true);

  const notReady = await fetch(`${failing.url}/readyz`);
  expect(notReady.status).toBe(503);
  const notReadyBody: unknown = await notReady.json();
  expect(notReadyBody).toMatchObject({ store: 'unavailable', error_type: 'service_unavailable' });
  expect(ajv.validate(schemaAt(doc, '/readyz', '503'), notReadyBody), JSON.stringify(ajv.errors)).toBe(true);
});
