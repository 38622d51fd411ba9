/**
 * The sim's queue: FIFO, at most `concurrency()` jobs IN_PROGRESS at once, each for its latency,
 * then COMPLETED (docs/fal-protocol.md §2.3; fal has no FAILED state, failures are COMPLETED + error).
 * Watchers hear about every change so SSE streams can report position and state moves.
 */
import type { Outcome } from './faults.js';
import { clientCancelled, type SimReply } from './fal-replies.js';
import type { SimInput } from './input-check.js';

export type JobState = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

export interface SimLogEntry {
  message: string;
  level: 'INFO';
  source: 'USER';
  timestamp: string;
}

export interface JobSpec {
  input: SimInput;
  /** Digits to echo and to derive the images from. */
  seed: string;
  outcome: Outcome;
  slow: boolean;
  webhookUrl: string | undefined;
}

export interface JobResult {
  /** What GET …/requests/{id} answers. */
  reply: SimReply;
  /** For COMPLETED statuses of failed jobs: `error` and `error_type`. */
  error?: { message: string; type: string };
  /** Absent when the job never ran (cancelled while queued). */
  inferenceSeconds?: number;
}

export interface Job {
  readonly id: string;
  readonly spec: JobSpec;
  state: JobState;
  readonly logs: SimLogEntry[];
  result?: JobResult;
  cancelRequested: boolean;
}

export interface JobHooks {
  concurrency(): number;
  latencyMs(job: Job): number;
  /** Produces the job's result when its IN_PROGRESS time is up (and bills it). */
  finish(job: Job, inferenceSeconds: number): JobResult;
  /** Called once per job after it reached COMPLETED (webhooks). */
  settled(job: Job): void;
}

export type CancelOutcome = 'requested' | 'already_completed' | 'not_found';

/** Hears a job's state after any queue change; undefined when the job was cleared away. */
export type JobWatcher = (job: Job | undefined) => void;

export class JobQueue {
  private readonly jobs = new Map<string, Job>();
  private waiting: Job[] = [];
  private running = 0;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly watchers = new Map<string, Set<JobWatcher>>();

  constructor(
    private readonly hooks: JobHooks,
    private readonly maxJobs = 10_000,
  ) {}

  submit(id: string, spec: JobSpec): Job {
    const job: Job = { id, spec, state: 'IN_QUEUE', logs: [], cancelRequested: false };
    this.jobs.set(id, job);
    this.waiting.push(job);
    this.evictCompleted();
    this.pump();
    this.notify();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Requests ahead of this one, 0-indexed (only meaningful while IN_QUEUE). */
  position(job: Job): number {
    return Math.max(0, this.waiting.indexOf(job));
  }

  /** Starts queued jobs while there is capacity; also called when queueConcurrency changes. */
  pump(): void {
    let started = false;
    while (this.running < this.hooks.concurrency() && this.waiting.length > 0) {
      const job = this.waiting.shift();
      if (job === undefined) break;
      this.start(job);
      started = true;
    }
    if (started) this.notify();
  }

  /** Queued jobs leave at once; running ones are only flagged, they may still complete (fal docs). */
  cancel(id: string): CancelOutcome {
    const job = this.jobs.get(id);
    if (job === undefined) return 'not_found';
    if (job.state === 'COMPLETED') return 'already_completed';
    if (job.state === 'IN_PROGRESS') {
      job.cancelRequested = true;
      log(job, 'Cancellation requested; the runner may still complete the request');
    } else {
      this.waiting = this.waiting.filter((j) => j !== job);
      job.state = 'COMPLETED';
      job.result = { reply: clientCancelled(id), error: { message: 'Request was cancelled', type: 'client_cancelled' } };
      log(job, 'Request was cancelled before it started');
      this.hooks.settled(job);
    }
    this.notify();
    return 'requested';
  }

  watch(id: string, watcher: JobWatcher): () => void {
    const set = this.watchers.get(id) ?? new Set<JobWatcher>();
    set.add(watcher);
    this.watchers.set(id, set);
    return () => {
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(id) === set) this.watchers.delete(id);
    };
  }

  /** Drops every job and timer; watchers hear `undefined` so open streams end. */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.jobs.clear();
    this.waiting = [];
    this.running = 0;
    const watchers = [...this.watchers.values()].flatMap((set) => [...set]);
    this.watchers.clear();
    for (const w of watchers) w(undefined);
  }

  private start(job: Job): void {
    job.state = 'IN_PROGRESS';
    this.running += 1;
    const { numImages, width, height } = job.spec.input;
    log(job, `Generating ${numImages} image(s) at ${width}x${height}`);
    const ms = this.hooks.latencyMs(job);
    this.timers.set(job.id, setTimeout(() => this.finish(job, ms), ms));
  }

  private finish(job: Job, ms: number): void {
    this.timers.delete(job.id);
    this.running -= 1;
    job.result = this.hooks.finish(job, ms / 1000);
    job.state = 'COMPLETED';
    log(job, job.result.error === undefined ? `Generation finished in ${(ms / 1000).toFixed(3)}s` : `Request failed: ${job.result.error.message}`);
    this.hooks.settled(job);
    this.pump();
    this.notify();
  }

  private notify(): void {
    for (const [id, set] of this.watchers) {
      const job = this.jobs.get(id);
      for (const w of [...set]) w(job);
    }
  }

  /** Keeps memory bounded on long runs: forgets the oldest completed jobs beyond maxJobs. */
  private evictCompleted(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.maxJobs) return;
      if (job.state === 'COMPLETED') this.jobs.delete(id);
    }
  }
}

function log(job: Job, message: string): void {
  job.logs.push({ message, level: 'INFO', source: 'USER', timestamp: new Date().toISOString() });
}
