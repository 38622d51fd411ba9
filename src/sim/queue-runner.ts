/**
 * The sim's queue wired to the rest of the sim: latency from the current faults, output
 * generation and billing when a job finishes, and the completion webhook.
 */
import { latencyFor } from './faults.js';
import { contentPolicyViolation, runnerServerError } from './fal-replies.js';
import { JobQueue, type Job, type JobResult } from './jobs.js';
import { billableUnits, generateOutput } from './output.js';
import type { SimCore } from './sim-state.js';
import { deliverWebhook, webhookBody } from './webhook.js';

export class QueueRunner extends JobQueue {
  constructor(core: SimCore) {
    super({
      concurrency: () => core.faults.queueConcurrency,
      latencyMs: (job) => latencyFor(core.faults, job.spec.slow, core.random),
      finish: (job, seconds) => finishJob(core, job, seconds),
      settled: (job) => notifyWebhook(core, job),
    });
  }
}

/**
 * Bills exactly once, when the job completes: successes and late 422s (generation ran), never
 * runner errors (fal: "server errors are never billed", docs/fal-protocol.md §4).
 */
function finishJob(core: SimCore, job: Job, inferenceSeconds: number): JobResult {
  const { id, spec } = job;
  if (spec.outcome === 'error') {
    const reply = runnerServerError(id);
    return { reply, error: { message: detailOf(reply.body), type: 'runner_server_error' }, inferenceSeconds };
  }
  const units = billableUnits(spec.input);
  if (spec.outcome === 'late422') {
    core.recorder.bill(id, units);
    const reply = contentPolicyViolation(id, units);
    return { reply, error: { message: 'The generated image was flagged by the content checker.', type: 'content_policy_violation' }, inferenceSeconds };
  }
  let body: string;
  try {
    body = generateOutput(core, id, spec.input, spec.seed, inferenceSeconds);
  } catch {
    // Encoding blew up (e.g. memory for a huge image): a runner error, unbilled, as on fal.
    const reply = runnerServerError(id);
    return { reply, error: { message: detailOf(reply.body), type: 'runner_server_error' }, inferenceSeconds };
  }
  core.recorder.bill(id, units);
  return { reply: { status: 200, body, headers: { 'x-fal-request-id': id, 'x-fal-billable-units': String(units) } }, inferenceSeconds };
}

function notifyWebhook(core: SimCore, job: Job): void {
  const url = job.spec.webhookUrl;
  if (url === undefined || job.result === undefined) return;
  const { reply } = job.result;
  const body = webhookBody(job.id, reply.status === 200, reply.body, reply.status);
  void deliverWebhook(core, url, job.id, body);
}

function detailOf(json: string): string {
  const parsed = JSON.parse(json) as { detail?: unknown };
  return typeof parsed.detail === 'string' ? parsed.detail : 'Request failed';
}
