/** The retry classification the failure matrix relies on, one row per client behaviour. */
import { describe, expect, it } from 'vitest';
import { isRetryable, retriedBy, type CallKind, type ClientAnswer } from '../helpers/retryable.js';

const http = (status: number, body = '{"detail":"x"}', headers: Record<string, string> = {}): ClientAnswer => ({ kind: 'http', status, body, headers });
const nginx = '<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>';

const rows: { name: string; answer: ClientAnswer; call?: CallKind; js: boolean; python: boolean }[] = [
  { name: 'a cut socket', answer: { kind: 'transport' }, js: true, python: true },
  { name: '200', answer: http(200), js: false, python: false },
  { name: '400', answer: http(400), js: false, python: false },
  { name: '402 budget_exceeded', answer: http(402), js: false, python: false },
  { name: '408', answer: http(408), js: false, python: true },
  { name: '409', answer: http(409), js: false, python: true },
  { name: '422', answer: http(422), js: false, python: false },
  { name: '429', answer: http(429), js: true, python: true },
  { name: 'JSON 500', answer: http(500), js: false, python: false },
  { name: 'JSON 500 on a status poll', answer: http(500), call: 'status', js: true, python: false },
  { name: 'JSON 502', answer: http(502), js: true, python: false },
  { name: 'JSON 503', answer: http(503), js: true, python: false },
  { name: 'JSON 504', answer: http(504), js: true, python: false },
  { name: 'nginx 502', answer: http(502, nginx), js: true, python: true },
  { name: 'nginx 503', answer: http(503, nginx), js: true, python: true },
  { name: 'nginx 504', answer: http(504, nginx), js: true, python: true },
  { name: 'nginx 502 with x-fal-request-id', answer: http(502, nginx, { 'x-fal-request-id': 'r1' }), js: true, python: false },
  { name: 'nginx 500', answer: http(500, nginx), js: false, python: false },
  { name: '504 user timeout', answer: http(504, '{}', { 'x-fal-request-timeout-type': 'user' }), js: false, python: false },
];

describe('retriedBy', () => {
  it.each(rows)('$name: js=$js python=$python', ({ answer, call, js, python }) => {
    expect(retriedBy(answer, call)).toEqual({ js, python });
    expect(isRetryable(answer, call)).toBe(js || python);
  });
});
