/**
 * How each variant is addressed. Every scenario describes its request as fal would see it (which
 * fal origin, which path) and each variant's door turns that into the request a client sends it:
 * - direct: straight to the simulated fal, with the fal key;
 * - prefix proxies (node:http, reply-from, the gateway): `/queue/<fal path>` for the queue origin,
 *   `<fal path>` for the run origin, as the gateway's host mode does;
 * - @fal-ai/server-proxy: `/api/fal/proxy` with the full fal URL in `x-fal-target-url`.
 */
import type { Child } from './procs.js';

export const MODEL_PATH = '/fal-ai/stable-diffusion-v35-medium';
export const requestPath = (id: string, suffix = ''): string => `${MODEL_PATH}/requests/${encodeURIComponent(id)}${suffix}`;

export type FalOrigin = 'run' | 'queue';
export type Method = 'GET' | 'POST' | 'PUT';

/** One concrete HTTP request: origin (`http://127.0.0.1:port`), path, headers, body. */
export interface HttpSpec {
  origin: string;
  method: Method;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FalCall {
  origin: FalOrigin;
  method: Method;
  path: string;
  body?: string;
}

export type VariantKind = 'direct' | 'baseline' | 'gateway';

export interface Variant {
  id: string;
  label: string;
  kind: VariantKind;
  /** The process doing the work: the sim itself for `direct`. */
  child: Child;
  /** Builds the request a client sends this variant for a fal call. */
  door: (call: FalCall) => HttpSpec;
  /**
   * Queue requests parked IN_PROGRESS that this variant may poll (owned by its key on the gateway),
   * one per load connection: with one shared id, the gateway's single flight would merge concurrent
   * polls that a plain proxy relays one by one.
   */
  statusIds: string[];
}

export interface SimOrigins {
  run: string;
  queue: string;
  falKey: string;
}

const json = (call: FalCall): Record<string, string> => (call.body === undefined ? {} : { 'content-type': 'application/json' });

export function directDoor(sim: SimOrigins): (call: FalCall) => HttpSpec {
  return (call) => ({
    origin: call.origin === 'run' ? sim.run : sim.queue,
    method: call.method,
    path: call.path,
    headers: { authorization: `Key ${sim.falKey}`, ...json(call) },
    ...(call.body === undefined ? {} : { body: call.body }),
  });
}

/** `authorization` is what the client sends: nothing for the baselines, a gateway key for the gateway. */
export function prefixDoor(origin: string, authorization?: string): (call: FalCall) => HttpSpec {
  return (call) => ({
    origin,
    method: call.method,
    path: call.origin === 'queue' ? `/queue${call.path}` : call.path,
    headers: { ...(authorization === undefined ? {} : { authorization }), ...json(call) },
    ...(call.body === undefined ? {} : { body: call.body }),
  });
}

export function serverProxyDoor(origin: string, sim: SimOrigins): (call: FalCall) => HttpSpec {
  return (call) => ({
    origin,
    method: call.method,
    path: '/api/fal/proxy',
    headers: { 'x-fal-target-url': `${call.origin === 'run' ? sim.run : sim.queue}${call.path}`, ...json(call) },
    ...(call.body === undefined ? {} : { body: call.body }),
  });
}

/** A small queue submit: 64×64 JPEG, so finished sim jobs cost next to nothing. */
export const SMALL_SUBMIT_BODY = JSON.stringify({ prompt: 'a lighthouse at dusk, bench', image_size: { width: 64, height: 64 }, num_images: 1 });

export const statusCall = (id: string): FalCall => ({ origin: 'queue', method: 'GET', path: requestPath(id, '/status') });
export const submitCall = (body = SMALL_SUBMIT_BODY): FalCall => ({ origin: 'queue', method: 'POST', path: MODEL_PATH, body });
export const resultCall = (id: string): FalCall => ({ origin: 'queue', method: 'GET', path: requestPath(id) });
export const syncCall = (body: string): FalCall => ({ origin: 'run', method: 'POST', path: MODEL_PATH, body });
