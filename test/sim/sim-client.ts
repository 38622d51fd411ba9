/** Test helpers for talking to the simulated fal over the wire, as a gateway would. */
import { MODEL_PATH } from '../../src/domain/model.js';
import { startFalSim, type FalSim, type SimOptions } from '../../src/sim/fal-sim.js';

export const FAL_KEY = 'test-key-id:test-key-secret';
export const AUTH = { authorization: `Key ${FAL_KEY}` };
/** Smallest compatible size: keeps image encoding out of tests where the size is not the point. */
export const TINY = { width: 64, height: 64 };

export function startSim(opts: Partial<SimOptions> = {}): Promise<FalSim> {
  return startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 5 }, ...opts });
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = AUTH): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function call(url: string, method = 'GET', headers: Record<string, string> = AUTH): Promise<Reply> {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export function runModel(sim: FalSim, body: unknown, headers?: Record<string, string>): Promise<Reply> {
  return post(`${sim.runUrl}${MODEL_PATH}`, body, headers);
}

export interface Submitted {
  request_id: string;
  status_url: string;
  response_url: string;
  cancel_url: string;
  queue_position: number;
}

export async function submit(sim: FalSim, body: unknown, query = ''): Promise<Submitted> {
  const r = await post(`${sim.queueUrl}${MODEL_PATH}${query}`, body);
  if (r.status !== 200) throw new Error(`submit answered ${r.status}: ${r.text}`);
  return JSON.parse(r.text) as Submitted;
}

export async function statusOf(s: Submitted, query = ''): Promise<{ code: number; body: Record<string, unknown> }> {
  const r = await call(`${s.status_url}${query}`);
  return { code: r.status, body: JSON.parse(r.text) as Record<string, unknown> };
}

/** Polls the status until COMPLETED (the sim's latencies in tests are a few ms). */
export async function waitCompleted(s: Submitted): Promise<Record<string, unknown>> {
  for (;;) {
    const { body } = await statusOf(s);
    if (body.status === 'COMPLETED') return body;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function json(r: Reply): Record<string, unknown> {
  return JSON.parse(r.text) as Record<string, unknown>;
}

/** Width and height read from the image's own header bytes (PNG IHDR, JPEG SOFn). */
export function imageDimensions(bytes: Buffer): { format: 'png' | 'jpeg'; width: number; height: number } {
  if (bytes.subarray(1, 4).toString('latin1') === 'PNG') {
    return { format: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('neither PNG nor JPEG');
  let at = 2;
  while (at < bytes.length) {
    const marker = bytes.readUInt16BE(at);
    const length = bytes.readUInt16BE(at + 2);
    const isSof = marker >= 0xffc0 && marker <= 0xffcf && ![0xffc4, 0xffc8, 0xffcc].includes(marker);
    if (isSof) return { format: 'jpeg', height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  throw new Error('JPEG without a SOF segment');
}

/** The bytes behind an output image URL: a data URI or a file the sim serves. */
export async function imageBytes(url: string): Promise<Buffer> {
  if (url.startsWith('data:')) return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`file answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export interface OutputImage {
  url: string;
  width: number;
  height: number;
  content_type: string;
  file_name: string;
  file_size: number;
}

export function outputImages(r: Reply): OutputImage[] {
  return (json(r).images ?? []) as OutputImage[];
}
