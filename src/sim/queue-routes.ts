/**
 * The queue listener, playing https://queue.fal.run for the one model (docs/fal-protocol.md §2.3):
 * submit on MODEL_PATH, then status, status stream, result (both path forms) and cancel under
 * REQUESTS_PREFIX. Every call needs the fal key.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MODEL_PATH, REQUESTS_PREFIX } from '../domain/model.js';
import type { SimCall } from './fal-sim.js';
import { planCall, resultTransport } from './faults.js';
import {
  concurrentRequestsLimit, methodNotAllowed, pathNotFound, payloadTooLarge, reply, requestNotFound,
  stillInProgress, unauthorized, validationFailed, type SimReply,
} from './fal-replies.js';
import { hasFalKey, readBody, sendGarbage, sendJson, sendNothing, sendReply, sendTruncated, wantsLogs } from './http-io.js';
import { checkInput } from './input-check.js';
import { statusBody, statusCode, submitBody } from './queue-status.js';
import { randomSeed } from './raw-seed.js';
import type { SimState } from './sim-state.js';
import { streamStatus } from './status-stream.js';

type QueueOp = Exclude<SimCall['op'], 'run' | 'file' | 'usage' | 'pricing' | 'keys' | 'other'>;
type Route = { op: QueueOp; id: string } | { op: 'other'; reply: SimReply };

const OP_METHOD: Record<QueueOp, string> = { submit: 'POST', status: 'GET', stream: 'GET', result: 'GET', cancel: 'PUT' };

export async function handleQueueRequest(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const route = matchRoute(req.method ?? 'GET', url.pathname);
  const call = state.recorder.record(route.op, req, url.pathname + url.search);
  if (route.op === 'other') {
    req.resume();
    return sendReply(res, route.reply);
  }
  if (route.op !== 'submit') call.requestId = route.id;
  if (!hasFalKey(req, state.falKey)) {
    req.resume();
    return sendReply(res, unauthorized());
  }
  if (route.op === 'submit') return submit(state, req, res, url, call);
  req.resume();
  const job = state.queue.get(route.id);
  if (job === undefined) return sendReply(res, requestNotFound());
  switch (route.op) {
    case 'status':
      return sendJson(res, statusCode(job), statusBody(state.queue, state.urls.queue, job, wantsLogs(url)), { 'x-fal-request-id': job.id });
    case 'stream':
      return streamStatus(state, res, job, wantsLogs(url));
    case 'result': {
      if (job.result === undefined) return sendReply(res, stillInProgress(job.id));
      const transport = resultTransport(job.spec.input.prompt, state.faults, state.random);
      if (transport === 'hang') return;
      if (transport === 'reset-before-headers') return sendNothing(res);
      return transport === 'reset' ? sendTruncated(res, job.result.reply) : sendReply(res, job.result.reply);
    }
    case 'cancel': {
      const outcome = state.queue.cancel(job.id);
      if (outcome === 'requested') return sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' });
      return sendJson(res, 400, { status: 'ALREADY_COMPLETED' });
    }
  }
}

/**
 * Validates up front (a 422 creates no job), then enqueues. A hung or reset submit still creates
 * the job: fal accepted it, only the answer was lost (see faults.ts).
 */
async function submit(state: SimState, req: IncomingMessage, res: ServerResponse, url: URL, call: SimCall): Promise<void> {
  if (state.faults.hangBeforeBodyRate > 0 && state.random() < state.faults.hangBeforeBodyRate) return;
  const body = await readBody(req);
  if (body === undefined) return sendReply(res, payloadTooLarge());
  const id = randomUUID();
  call.requestId = id;
  const check = checkInput(body.toString('utf8'), state.maxMegapixelsPerImage);
  if (!check.ok) return sendReply(res, validationFailed(id, check.errors));
  const { input } = check;
  const plan = planCall(input.prompt, state.faults, state.random, 'submit');
  if (plan.reject429) return sendReply(res, concurrentRequestsLimit(id));
  if (plan.transport === 'hang-before-body') return;
  const job = state.queue.submit(id, {
    input,
    seed: input.seed ?? randomSeed(state.random),
    outcome: plan.outcome,
    slow: plan.slow,
    webhookUrl: url.searchParams.get('fal_webhook') ?? undefined,
  });
  const position = job.state === 'IN_QUEUE' ? state.queue.position(job) : 0;
  const headers = { 'x-fal-request-id': id };
  if (plan.submitBody === 'garbage') return sendGarbage(res, 200, headers);
  const { request_id: _omitted, ...withoutId } = submitBody(state.urls.queue, id, position);
  const answer = reply(200, plan.submitBody === 'no-request-id' ? withoutId : submitBody(state.urls.queue, id, position), headers);
  if (plan.transport === 'hang') return;
  if (plan.transport === 'reset-before-headers') return sendNothing(res);
  if (plan.transport === 'reset') return sendTruncated(res, answer);
  sendReply(res, answer);
}

function matchRoute(method: string, path: string): Route {
  let op: QueueOp | undefined;
  let id = '';
  if (path === MODEL_PATH) op = 'submit';
  else if (path.startsWith(`${REQUESTS_PREFIX}/`)) {
    const parts = path.slice(REQUESTS_PREFIX.length + 1).split('/');
    id = parts[0] ?? '';
    const rest = parts.slice(1).join('/');
    if (id !== '') op = rest === '' || rest === 'response' ? 'result' : rest === 'status' ? 'status' : rest === 'status/stream' ? 'stream' : rest === 'cancel' ? 'cancel' : undefined;
  }
  if (op === undefined) return { op: 'other', reply: pathNotFound() };
  if (OP_METHOD[op] !== method) return { op: 'other', reply: methodNotAllowed() };
  return { op, id };
}
