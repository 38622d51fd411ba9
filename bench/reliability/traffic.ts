/**
 * The client side of the long run: workers send mixed runs and submits through both doors to
 * whichever instance is up, follow queue handles like a client would, and record every answer
 * with the call's tag (`x-fal-runner-hint`), so the audit can set it against the ledger and the
 * simulated fal's bill. Workers never retry a POST: any second charge would be the gateway's.
 */
import { followHandle, post, type Answer } from '../../test/reliability/observe.js';
import type { Door, Op } from '../../test/reliability/wire-fault-rows.js';
import type { Fleet } from './fleet.js';

export interface Sent {
  tag: string;
  op: Op;
  door: Door;
  keyIndex: number;
  images: number;
  answer: Answer;
  /** The instance it went to was killed or stopped while the call was open. */
  disrupted: boolean;
}

export interface TrafficOptions {
  requests: number;
  deadline: number;
  concurrency: number;
  keys: string[];
  random: () => number;
}

export async function runTraffic(fleet: Fleet, opts: TrafficOptions, onProgress: (done: number) => void): Promise<Sent[]> {
  const sent: Sent[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.requests && Date.now() < opts.deadline) {
      const n = next++;
      const slot = fleet.pick();
      if (slot?.proc === undefined) {
        await new Promise((r) => setTimeout(r, 100));
        next--; // nothing was sent
        continue;
      }
      const { url } = slot.proc;
      const generation = slot.generation;
      const op: Op = opts.random() < 0.5 ? 'run' : 'submit';
      const door: Door = opts.random() < 0.5 ? 'host' : 'proxy';
      const keyIndex = Math.floor(opts.random() * opts.keys.length);
      const key = opts.keys[keyIndex] ?? '';
      const images = opts.random() < 0.8 ? 1 : 2;
      const tag = `rel-${n}`;
      const answer = await post(url, key, op, door, { prompt: `reliability ${tag}`, image_size: 'square', num_images: images }, tag, 30_000);
      const disrupted = slot.generation !== generation || slot.proc === undefined || slot.stopping;
      sent.push({ tag, op, door, keyIndex, images, answer, disrupted });
      if (answer.handle !== undefined) {
        // Poll through any live instance, as a client behind a balancer would.
        const other = fleet.pick()?.proc?.url ?? url;
        await followHandle(other, key, answer.handle, 15_000).catch(() => undefined);
      }
      onProgress(sent.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  return sent;
}
