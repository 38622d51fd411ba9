/**
 * Fault injection: what the sim does with one model call. Prompt triggers (`[sim:error]` …) are
 * deterministic for tests; the rates in SimFaults draw from the sim's random source otherwise.
 *
 * Where each fault applies, and why:
 * - 429 (rate429) only on sync runs: fal's queue absorbs concurrency limits and never rejects a
 *   submit for them (docs/fal-protocol.md §2.3, §2.8). The `[sim:429]` trigger also works on submit so tests
 *   can exercise a 429 on submit (fal sends one for `fal_max_queue_length`).
 * - hang/reset apply to the calls whose answer carries the model's work: run, submit and result.
 *   A hung or reset submit still creates the job, as when fal accepted it but the answer was lost.
 * - error and the late 422 decide a queue job's outcome when it is submitted.
 *
 * Transport faults, named for where the connection breaks (the gateway's failure classes):
 * - `[sim:hang]` reads the body, does the work (a submit's job exists, a run is not billed: fal
 *   bills a sync call as its answer is written) and never answers.
 * - `[sim:hang-before-body]` (or `hangBeforeBodyRate`) never acts on the request: no job, no bill.
 *   The rate knob does not even read the body; the trigger has to, to see the prompt.
 * - `[sim:reset-before-headers]` does the work (a run is billed: fal ran it), then destroys the
 *   socket before any status line.
 * - `[sim:reset]` sends status and headers (with billable units) and half the body, then resets.
 * - `[sim:garbage]` (submit) answers 200 with a body that is not JSON; `[sim:no-request-id]`
 *   (submit) answers 200 JSON without `request_id`. Both keep `x-fal-request-id` and create the job.
 * - `[sim:result-hang]`, `[sim:result-reset]`, `[sim:result-reset-before-headers]` on a submit
 *   apply to every fetch of that job's result.
 *
 * Cost-truth faults (docs/fal-protocol.md §4.1, §2.9), for the gateway's reconciliation:
 * - `usageLagMs`: a billed request shows in the usage API only this long after it was billed, so
 *   a bucket's totals can still grow after the bucket ended (late buckets).
 * - `usageMaxPageSize` (0 = off): a page holds at most this many buckets whatever `limit` asks,
 *   as fal warns ("actual maximum depends on query type"), so a short page is not the last one;
 *   only `has_more` says so. Keep it fixed during one walk: the cursor counts pages.
 * - `usageRate429` (share of usage calls): 429 with `Retry-After: usageRetryAfterS`.
 * - `webhookBadSignatureRate`: a delivery attempt is signed with a key the JWKS does not hold.
 *   `webhookDuplicateRate`: an accepted delivery is delivered once more.
 * - "bill one request twice" is not a rate: `billTwice(requestId)` / `POST /_sim/bill-twice`.
 */
import type { SimFaults } from './fal-sim.js';

export const DEFAULT_FAULTS: Readonly<SimFaults> = {
  latencyMs: 50,
  jitterMs: 0,
  errorRate: 0,
  rate429: 0,
  hangRate: 0,
  resetRate: 0,
  hangBeforeBodyRate: 0,
  queueConcurrency: 2,
  syncConcurrency: Infinity,
  usageLagMs: 0,
  usageMaxPageSize: 0,
  usageRate429: 0,
  usageRetryAfterS: 1,
  // fal: "it will retry 10 times in the span of 2 hours"; 7 s doubling ten times spans ~2 h.
  webhookMaxRetries: 10,
  webhookBackoffMs: 7000,
  webhookBadSignatureRate: 0,
  webhookDuplicateRate: 0,
};

export type Transport = 'answer' | 'hang' | 'hang-before-body' | 'reset-before-headers' | 'reset';
export type Outcome = 'ok' | 'error' | 'late422';
/** What a 2xx submit answer's body looks like (`[sim:garbage]`, `[sim:no-request-id]`). */
export type SubmitBody = 'normal' | 'garbage' | 'no-request-id';

const TRANSPORT_TRIGGERS: readonly Exclude<Transport, 'answer'>[] = ['hang', 'hang-before-body', 'reset-before-headers', 'reset'];

export interface CallPlan {
  transport: Transport;
  submitBody: SubmitBody;
  reject429: boolean;
  outcome: Outcome;
  /** `[sim:slow]`: latency ×10. */
  slow: boolean;
}

/** Decides a run or submit call's fate from its prompt triggers, else from the fault rates. */
export function planCall(prompt: string, faults: SimFaults, random: () => number, kind: 'run' | 'submit'): CallPlan {
  const has = (name: string): boolean => prompt.includes(`[sim:${name}]`);
  const slow = has('slow');
  const submitBody: SubmitBody = has('garbage') ? 'garbage' : has('no-request-id') ? 'no-request-id' : 'normal';
  const triggered = TRANSPORT_TRIGGERS.find(has);
  if (triggered !== undefined || ['429', 'error', '422'].some(has)) {
    return {
      transport: triggered ?? 'answer',
      submitBody,
      reject429: has('429'),
      outcome: has('error') ? 'error' : has('422') ? 'late422' : 'ok',
      slow,
    };
  }
  const transport: Transport = random() < faults.hangRate ? 'hang' : random() < faults.resetRate ? 'reset' : 'answer';
  const reject429 = kind === 'run' && random() < faults.rate429;
  const outcome: Outcome = random() < faults.errorRate ? 'error' : 'ok';
  return { transport, submitBody, reject429, outcome, slow };
}

/**
 * Hang/reset for a result fetch: the `[sim:result-…]` triggers of the job's prompt, else the rates.
 * `hang-before-body` means nothing for a GET, so it is never chosen here.
 */
export function resultTransport(prompt: string, faults: SimFaults, random: () => number): Transport {
  const triggered = TRANSPORT_TRIGGERS.find((t) => prompt.includes(`[sim:result-${t}]`));
  if (triggered !== undefined) return triggered;
  return random() < faults.hangRate ? 'hang' : random() < faults.resetRate ? 'reset' : 'answer';
}

/** Generation time in ms: latency ± jitter (never negative), ×10 for `[sim:slow]`. */
export function latencyFor(faults: SimFaults, slow: boolean, random: () => number): number {
  const jittered = faults.latencyMs + (random() * 2 - 1) * faults.jitterMs;
  return Math.max(0, jittered) * (slow ? 10 : 1);
}

export type FaultPatchCheck = { ok: true; patch: Partial<SimFaults> } | { ok: false; error: string };

const RATE_KEYS = [
  'errorRate', 'rate429', 'hangRate', 'resetRate', 'hangBeforeBodyRate',
  'usageRate429', 'webhookBadSignatureRate', 'webhookDuplicateRate',
] as const;
const DURATION_KEYS = ['latencyMs', 'jitterMs', 'usageLagMs', 'webhookBackoffMs'] as const;
const COUNT_KEYS = ['usageMaxPageSize', 'usageRetryAfterS', 'webhookMaxRetries'] as const;
const CONCURRENCY_KEYS = ['queueConcurrency', 'syncConcurrency'] as const;

/**
 * Validates a fault patch from code or from `POST /_sim/faults`. JSON cannot carry Infinity, so a
 * concurrency of `null` means "unlimited".
 */
export function checkFaultPatch(input: unknown): FaultPatchCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'faults must be an object' };
  }
  const patch: Partial<SimFaults> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (isOneOf(RATE_KEYS, key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) return bad(key, 'a number in 0..1');
      patch[key] = value;
    } else if (isOneOf(DURATION_KEYS, key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return bad(key, 'a finite number >= 0');
      patch[key] = value;
    } else if (isOneOf(COUNT_KEYS, key)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return bad(key, 'an integer >= 0');
      patch[key] = value;
    } else if (isOneOf(CONCURRENCY_KEYS, key)) {
      const n = value === null ? Infinity : value;
      if (typeof n !== 'number' || !(n === Infinity || (Number.isInteger(n) && n >= 1))) {
        return bad(key, 'an integer >= 1, Infinity or null');
      }
      patch[key] = n;
    } else {
      return { ok: false, error: `unknown fault "${key}"` };
    }
  }
  return { ok: true, patch };
}

function isOneOf<K extends string>(keys: readonly K[], key: string): key is K {
  return (keys as readonly string[]).includes(key);
}

function bad(key: string, expected: string): FaultPatchCheck {
  return { ok: false, error: `fault "${key}" must be ${expected}` };
}
