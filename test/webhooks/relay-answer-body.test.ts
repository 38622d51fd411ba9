/**
 * The relay uses only the status of a receiver's answer: its body is never read, so a receiver
 * that answers with a large (or endless) body costs the gateway no memory and no send time, and
 * the delivery still counts as delivered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, submit, webhookKey, eventually, type Rig } from './harness.js';

const ANSWER_BYTES = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

let rig: Rig | undefined;
let server: Server | undefined;
afterEach(async () => {
  await rig?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rig = server = undefined;
});

interface Streamed {
  /** Bytes of the answer handed to the socket before it closed. */
  written: number;
  /** Whether the whole answer was sent (the gateway read it to the end). */
  finished: boolean;
}

/** A receiver that answers 200 and then streams ANSWER_BYTES of body, as fast as the gateway reads. */
async function streamingReceiver(): Promise<{ url: string; answers: Streamed[] }> {
  const answers: Streamed[] = [];
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer: Streamed = { written: 0, finished: false };
      res.on('finish', () => (answer.finished = true));
      res.on('close', () => answers.push(answer));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(ANSWER_BYTES) });
      const pump = (): void => {
        while (answer.written < ANSWER_BYTES) {
          if (res.destroyed) return;
          answer.written += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, answers };
}

describe("the relay and the receiver's answer", () => {
  it('counts a 200 with a 64 MiB body as delivered without reading the body (the receiver sees the socket closed early)', async () => {
    rig = await startRig();
    const g = rig.gateways[0];
    if (g === undefined) throw new Error('no gateway');
    const receiver = await streamingReceiver();
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(g.url, key.key, receiver.url)).json.request_id);
    const relay = async () => {
      const row = await g.stores.ledger.findByFalRequestId(requestId);
      return row === null ? null : g.stores.webhooks.get(row.id);
    };
    await eventually(async () => (await relay())?.state === 'delivered', 'the delivery');
    expect(await relay()).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 200 });
    await eventually(() => receiver.answers.length === 1, 'the receiver to see its answer end');
    const [answer] = receiver.answers;
    expect(answer?.finished).toBe(false);
    // What the socket buffers took before the gateway closed it: a small part of the answer.
    expect(answer?.written).toBeLessThan(ANSWER_BYTES / 4);
  });
});
