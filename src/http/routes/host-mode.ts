/**
 * Host mode: fal's own paths, for curl, HTTP and Python clients (docs/design.md §1.1).
 * - `POST /fal-ai/stable-diffusion-v35-medium` is the sync run (as https://fal.run/…);
 * - `/queue/fal-ai/stable-diffusion-v35-medium[/requests/{id}/…]` is the queue API;
 * - on a `queue.` Host, the bare paths are the queue API (Python's FAL_QUEUE_RUN_HOST).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MODEL_PATH } from '../../domain/model.js';
import { REQUEST_ID_PATTERN, parseLogsFlag, type Operation } from '../../domain/operation.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { execute } from '../../pipeline/execute.js';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | string[] | undefined> }>;

const QUEUE_HOST = { host: /^queue\./i };

function requestId(req: Req): string {
  const id = req.params.id;
  if (!REQUEST_ID_PATTERN.test(id)) throw new GatewayError('not_found', 'Request not found');
  return id;
}

function single(req: Req, name: string): string | null {
  const v = req.query[name];
  if (Array.isArray(v)) throw new GatewayError('bad_request', `Query parameter ${name} given more than once`);
  return v ?? null;
}

function logsFlag(req: Req): boolean {
  const logs = parseLogsFlag(single(req, 'logs'));
  if (logs === null) throw new GatewayError('bad_request', 'logs must be 0, 1, true or false');
  return logs;
}

function submitOperation(req: Req): Operation {
  const maxRaw = single(req, 'fal_max_queue_length');
  const max = maxRaw === null ? null : Number(maxRaw);
  if (max !== null && (!/^\d{1,7}$/.test(maxRaw ?? '') || max < 1)) {
    throw new GatewayError('bad_request', 'fal_max_queue_length must be a positive integer');
  }
  return { kind: 'submit', webhook: single(req, 'fal_webhook'), maxQueueLength: max };
}

export function hostModeRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  const go = (op: (req: Req) => Operation) => (req: FastifyRequest, reply: FastifyReply) => {
    req.facts.door = 'host';
    return execute(ctx, op(req as Req), req, reply);
  };

  const requestRoutes = (prefix: string, constraints?: { host: RegExp }) => {
    const opts = constraints ? { constraints } : {};
    const base = `${prefix}${MODEL_PATH}/requests/:id`;
    app.get(`${base}/status`, opts, go((r) => ({ kind: 'status', requestId: requestId(r), logs: logsFlag(r) })));
    app.get(`${base}/status/stream`, opts, go((r) => ({ kind: 'stream', requestId: requestId(r), logs: logsFlag(r) })));
    app.get(base, opts, go((r) => ({ kind: 'result', requestId: requestId(r) })));
    app.get(`${base}/response`, opts, go((r) => ({ kind: 'result', requestId: requestId(r) })));
    app.put(`${base}/cancel`, opts, go((r) => ({ kind: 'cancel', requestId: requestId(r) })));
  };

  app.post(MODEL_PATH, go(() => ({ kind: 'run' })));
  app.post(`/queue${MODEL_PATH}`, go(submitOperation));
  requestRoutes('/queue');

  // The same queue API on the bare paths when addressed as a `queue.` host.
  app.post(MODEL_PATH, { constraints: QUEUE_HOST }, go(submitOperation));
  requestRoutes('', QUEUE_HOST);
}
