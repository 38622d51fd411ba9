/**
 * `GET …/requests/{id}/status/stream`: Server-Sent Events, one `data: <QueueStatus JSON>` per
 * change, closed after COMPLETED (docs/fal-protocol.md §2.3; fal-js ignores event names and parses `data`).
 * Each event is written straight to the socket (no buffering), so clients see moves as they happen.
 */
import type { ServerResponse } from 'node:http';
import type { Job } from './jobs.js';
import { statusBody } from './queue-status.js';
import type { SimState } from './sim-state.js';

export function streamStatus(state: SimState, res: ServerResponse, job: Job, withLogs: boolean): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-fal-request-id': job.id,
  });
  res.flushHeaders();
  let last = '';
  let unwatch: () => void = () => undefined;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    unwatch();
    res.end();
  };
  const push = (current: Job | undefined): void => {
    if (current === undefined) return end();
    const text = JSON.stringify(statusBody(state.queue, state.urls.queue, current, withLogs));
    if (text !== last) {
      last = text;
      res.write(`data: ${text}\n\n`);
    }
    if (current.state === 'COMPLETED') end();
  };
  push(job);
  if (ended) return;
  unwatch = state.queue.watch(job.id, push);
  res.on('close', end);
}
