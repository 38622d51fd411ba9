/**
 * Messages to Postgres per request (docs/store.md, BENCHMARKS.md "The reservation in one message"):
 * every client query is counted while one request of each kind runs against a gateway on a fresh
 * schema, once its connections have PREPAREd their statements. A queue submit is 3 (the reservation
 * with BEGIN and COMMIT, mark sent, the attach), a sync run 4 (the reservation, mark sent, the
 * settlement's two), for a key without budgets. Needs TEST_DATABASE_URL.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';

describe.skipIf(postgresSkipReason !== undefined)('messages to Postgres per request', () => {
  let schema = '';
  let gw: TestGateway;
  let key = '';
  const sent: string[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;

  beforeAll(async () => {
    schema = await createSchema();
    // One connection: its statements are PREPAREd by the warm-up, as a pool's are after a while.
    gw = await startTestGateway({ stores: await openStores(postgresUrl(), { schema, max: 1 }), simLatencyMs: 0 });
    key = (await gw.createKey({ name: 'messages' })).key;
    proto.query = function (this: pg.Client, ...a: unknown[]) {
      sent.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string }).text));
      return original.apply(this, a);
    };
  }, 60_000);

  afterAll(async () => {
    proto.query = original;
    await gw?.close();
    await dropSchema(schema);
  });

  async function count(path: string): Promise<string[]> {
    const call = async () => {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    };
    for (let i = 0; i < 3; i++) await call();
    // The budget check after a settlement is not awaited by the answer: let it finish first.
    await new Promise((r) => setTimeout(r, 200));
    sent.length = 0;
    await call();
    await new Promise((r) => setTimeout(r, 200));
    return [...sent];
  }

  it('sends a queue submit in 3 messages, the reservation whole in the first', async () => {
    const messages = await count('/queue/fal-ai/stable-diffusion-v35-medium');
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^BEGIN; SET LOCAL synchronous_commit TO off; EXECUTE .*; COMMIT; EXECUTE /);
  });

  it('sends a sync run in 4 messages, with no read of the key after the settlement', async () => {
    const messages = await count('/fal-ai/stable-diffusion-v35-medium');
    expect(messages).toHaveLength(4);
    expect(messages.some((m) => /FROM keys/.test(m))).toBe(false);
  });
});
