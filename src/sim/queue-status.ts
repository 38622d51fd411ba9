/**
 * QueueStatus bodies (docs/fal-protocol.md §2.3). The Python client parses strictly: IN_QUEUE must carry
 * `queue_position`, IN_PROGRESS and COMPLETED must carry the key `logs` (null is fine).
 */
import { REQUESTS_PREFIX } from '../domain/model.js';
import type { Job, JobQueue } from './jobs.js';

export function requestUrls(queueUrl: string, id: string): { response_url: string; status_url: string; cancel_url: string } {
  const base = `${queueUrl}${REQUESTS_PREFIX}/${id}`;
  return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
}

/** The submit answer: always IN_QUEUE, as fal's is, even if the job has already started. */
export function submitBody(queueUrl: string, id: string, position: number): Record<string, unknown> {
  return { status: 'IN_QUEUE', request_id: id, ...requestUrls(queueUrl, id), queue_position: position };
}

export function statusBody(queue: JobQueue, queueUrl: string, job: Job, withLogs: boolean): Record<string, unknown> {
  const head = { status: job.state, request_id: job.id, ...requestUrls(queueUrl, job.id) };
  if (job.state === 'IN_QUEUE') return { ...head, queue_position: queue.position(job) };
  const logs = withLogs ? job.logs.map((entry) => ({ ...entry })) : null;
  if (job.state === 'IN_PROGRESS') return { ...head, logs };
  const result = job.result;
  const metrics = result?.inferenceSeconds === undefined ? {} : { inference_time: result.inferenceSeconds };
  const error = result?.error === undefined ? {} : { error: result.error.message, error_type: result.error.type };
  return { ...head, logs, metrics, ...error };
}

/** 202 while IN_QUEUE or IN_PROGRESS, 200 once COMPLETED (Inference API reference). */
export function statusCode(job: Job): number {
  return job.state === 'COMPLETED' ? 200 : 202;
}
