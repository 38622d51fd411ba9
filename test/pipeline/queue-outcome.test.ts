/**
 * Which result fetches settle or release a queue row (pipeline/queue-settler.ts isOutcome): only
 * fal's own outcome for the job. A passing fault of the fetch itself (429, an ingress 5xx, a 404)
 * must leave the row reserved, or a budget is freed while fal keeps the charge.
 */
import { describe, expect, it } from 'vitest';
import { isOutcome, jobFailed } from '../../src/pipeline/queue-settler.js';

const fal = { 'x-fal-request-id': 'req-1' };
const billed = (units: string) => ({ ...fal, 'x-fal-billable-units': units });

describe('isOutcome', () => {
  it.each([
    ['a 2xx result', 200, {}, false, true],
    ['a billed late 422', 422, billed('2'), true, true],
    ['an unbilled error fal stamped', 500, billed('0'), false, true],
    ['a runner 500 for a job whose status said it failed', 500, fal, true, true],
    ['a 503 from fal ingress for a job that succeeded', 503, {}, false, false],
    ['a JSON 500 with fal id for a job whose status said it succeeded', 500, fal, false, false],
    ['a 502 without fal id even if the job failed', 502, {}, true, false],
    ['a 429 on the fetch', 429, billed('0'), true, false],
    ['a 404 on the fetch', 404, fal, true, false],
    ['400 still in progress', 400, fal, false, false],
    ['fal refusing FAL_KEY', 401, {}, true, false],
  ] as const)('%s → %s', (_name, status, headers, failed, expected) => {
    expect(isOutcome(status, headers, failed)).toBe(expected);
  });
});

describe('jobFailed', () => {
  it('reads the error of a COMPLETED status', () => {
    expect(jobFailed({ status: 'COMPLETED', error: 'Internal error', error_type: 'runner_server_error' })).toBe(true);
    expect(jobFailed({ status: 'COMPLETED' })).toBe(false);
    expect(jobFailed({ status: 'COMPLETED', error: null })).toBe(false);
  });
});
