/**
 * The run listener, playing https://fal.run (docs/fal-protocol.md §2.2): the sync call on MODEL_PATH, the
 * generated files under `/files/` (public, like fal's CDN) and the `/_sim/` control endpoints.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MODEL_PATH } from '../domain/model.js';
import { handleControl } from './control-routes.js';
import type { SimCall } from './fal-sim.js';
import { latencyFor, planCall } from './faults.js';
import {
  concurrentRequestsLimit, contentPolicyViolation, methodNotAllowed, pathNotFound, payloadTooLarge,
  runnerServerError, unauthorized, validationFailed, type SimReply,
} from './fal-replies.js';
import { hasFalKey, readBody, sendNothing, sendReply, sendTruncated, sleep } from './http-io.js';
import { checkInput } from './input-check.js';
import { billableUnits, generateOutput } from './output.js';
import { randomSeed } from './raw-seed.js';
import type { SimState } from './sim-state.js';

const FILES_PREFIX = '/files/';

export async function handleRunRequest(state: SimState, req: IncomingMessage, res: ServerResponse, resetSim: () => void): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  if (url.pathname.startsWith('/_sim/')) return handleControl(state, req, res, url.pathname, resetSim);
  const method = req.method ?? 'GET';
  const op: SimCall['op'] = url.pathname === MODEL_PATH ? 'run' : url.pathname.startsWith(FILES_PREFIX) ? 'file' : 'other';
  const call = state.recorder.record(op, req, url.pathname + url.search);
  if (op === 'file' && (method === 'GET' || method === 'HEAD')) return serveFile(state, req, res, url.pathname);
  if (op === 'run' && method === 'POST') return run(state, req, res, call);
  req.resume();
  sendReply(res, op === 'other' ? pathNotFound() : methodNotAllowed());
}

/** Files need no auth: fal CDN URLs are public to whoever holds them (docs/fal-protocol.md §1.5). */
function serveFile(state: SimState, req: IncomingMessage, res: ServerResponse, path: string): void {
  req.resume();
  let file: ReturnType<SimState['files']['get']>;
  try {
    file = state.files.get(decodeURIComponent(path.slice(FILES_PREFIX.length)));
  } catch {
    file = undefined; // malformed %-escape: no such file
  }
  if (file === undefined) return sendReply(res, pathNotFound());
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length), 'cache-control': 'public, max-age=3600' });
  res.end(req.method === 'HEAD' ? undefined : file.bytes);
}

/**
 * One sync generation. Order: auth, input check (422, free), concurrency/429, hang, latency,
 * then the outcome. Billing happens once, as the billed answer is written; a client that left
 * during the latency is not billed (fal's client_disconnected).
 */
async function run(state: SimState, req: IncomingMessage, res: ServerResponse, call: SimCall): Promise<void> {
  if (!hasFalKey(req, state.falKey)) {
    req.resume();
    return sendReply(res, unauthorized());
  }
  // Never read, never answered: fal did not see the request (the gateway cannot tell).
  if (state.faults.hangBeforeBodyRate > 0 && state.random() < state.faults.hangBeforeBodyRate) return;
  const body = await readBody(req);
  if (body === undefined) return sendReply(res, payloadTooLarge());
  const id = randomUUID();
  call.requestId = id;
  const check = checkInput(body.toString('utf8'), state.maxMegapixelsPerImage);
  if (!check.ok) return sendReply(res, validationFailed(id, check.errors));
  const { input } = check;
  const plan = planCall(input.prompt, state.faults, state.random, 'run');
  if (plan.reject429 || state.syncInFlight >= state.faults.syncConcurrency) return sendReply(res, concurrentRequestsLimit(id));

  state.syncInFlight += 1;
  let closed = false;
  res.once('close', () => {
    closed = true;
    state.syncInFlight -= 1;
  });
  if (plan.transport === 'hang' || plan.transport === 'hang-before-body') return;
  const ms = latencyFor(state.faults, plan.slow, state.random);
  if (!(await sleep(ms, state.lifetime.signal)) || closed) return;
  if (plan.outcome === 'error') return plan.transport === 'reset-before-headers' ? sendNothing(res) : sendReply(res, runnerServerError(id));

  const units = billableUnits(input);
  const answer: SimReply = plan.outcome === 'late422'
    ? contentPolicyViolation(id, units)
    : {
        status: 200,
        body: generateOutput(state, id, input, input.seed ?? randomSeed(state.random), ms / 1000),
        headers: { 'x-fal-request-id': id, 'x-fal-billable-units': String(units) },
      };
  // A reset still bills: generation ran (and for `reset`, the headers with the units went out).
  state.recorder.bill(id, units);
  if (plan.transport === 'reset-before-headers') sendNothing(res);
  else if (plan.transport === 'reset') sendTruncated(res, answer);
  else sendReply(res, answer);
}
