/** Every invalid input class is answered in fal's shape and never reaches fal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
const RUN = '/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: '65536' } });
  key = (await gw.createKey()).key;
});
afterAll(() => gw.close());

interface Case {
  name: string;
  status: number;
  errorType?: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  issue?: { loc: (string | number)[]; type: string };
}

const cases: Case[] = [
  { name: 'malformed JSON', status: 400, errorType: 'bad_request', body: '{"prompt": "x",' },
  { name: 'empty body', status: 400, errorType: 'bad_request', body: '' },
  { name: 'text/plain', status: 415, errorType: 'unsupported_media_type', body: JSON.stringify(validInput()), headers: { 'content-type': 'text/plain' } },
  { name: 'multipart', status: 415, errorType: 'unsupported_media_type', body: 'x', headers: { 'content-type': 'multipart/form-data; boundary=x' } },
  { name: 'json with a tab trick', status: 415, errorType: 'unsupported_media_type', body: JSON.stringify(validInput()), headers: { 'content-type': 'application/json\tx' } },
  { name: 'json with an empty parameter', status: 415, errorType: 'unsupported_media_type', body: JSON.stringify(validInput()), headers: { 'content-type': 'application/json;' } },
  { name: 'oversized body', status: 413, errorType: 'payload_too_large', body: JSON.stringify(validInput({ prompt: 'x'.repeat(70_000) })) },
  { name: '__proto__ key', status: 400, errorType: 'bad_request', body: '{"prompt":"x","__proto__":{"admin":true}}' },
  { name: 'a byte order mark', status: 400, errorType: 'bad_request', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(validInput()))]) },
  { name: 'invalid UTF-8', status: 400, errorType: 'bad_request', body: Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) },
  { name: 'a JSON string containing JSON', status: 422, body: JSON.stringify(JSON.stringify(validInput())), issue: { loc: ['body'], type: 'model_attributes_type' } },
  { name: 'an array', status: 422, body: '[]', issue: { loc: ['body'], type: 'model_attributes_type' } },
  { name: 'missing prompt', status: 422, body: '{}', issue: { loc: ['body', 'prompt'], type: 'missing' } },
  { name: 'num_images too large', status: 422, body: JSON.stringify(validInput({ num_images: 5 })), issue: { loc: ['body', 'num_images'], type: 'less_than_equal' } },
  { name: 'num_images zero', status: 422, body: JSON.stringify(validInput({ num_images: 0 })), issue: { loc: ['body', 'num_images'], type: 'greater_than_equal' } },
  { name: 'steps as a string', status: 422, body: JSON.stringify(validInput({ num_inference_steps: '40' })), issue: { loc: ['body', 'num_inference_steps'], type: 'int_type' } },
  { name: 'guidance too high', status: 422, body: JSON.stringify(validInput({ guidance_scale: 21 })), issue: { loc: ['body', 'guidance_scale'], type: 'less_than_equal' } },
  { name: 'unknown preset', status: 422, body: JSON.stringify(validInput({ image_size: 'huge' })), issue: { loc: ['body', 'image_size'], type: 'literal_error' } },
  { name: 'width zero', status: 422, body: JSON.stringify(validInput({ image_size: { width: 0, height: 512 } })), issue: { loc: ['body', 'image_size', 'width'], type: 'greater_than' } },
  { name: 'height too large', status: 422, body: JSON.stringify(validInput({ image_size: { width: 512, height: 20000 } })), issue: { loc: ['body', 'image_size', 'height'], type: 'less_than_equal' } },
  { name: 'bad output format', status: 422, body: JSON.stringify(validInput({ output_format: 'gif' })), issue: { loc: ['body', 'output_format'], type: 'literal_error' } },
  { name: 'unknown field', status: 422, body: JSON.stringify(validInput({ promt: 'typo' })), issue: { loc: ['body', 'promt'], type: 'extra_forbidden' } },
];

describe('invalid input never reaches fal', () => {
  it.each(cases)('$name → $status', async (c) => {
    gw.sim.reset();
    const res = await fetch(gw.url + RUN, {
      method: 'POST',
      headers: { authorization: `Key ${key}`, 'content-type': 'application/json', ...c.headers },
      body: c.body,
    });
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { detail: unknown; error_type?: string; request_id?: string };
    if (c.status === 422) {
      expect(Array.isArray(body.detail)).toBe(true);
      const issues = body.detail as { loc: unknown[]; type: string; msg: string }[];
      expect(issues).toContainEqual(expect.objectContaining({ loc: c.issue?.loc, type: c.issue?.type }));
      for (const i of issues) expect(typeof i.msg).toBe('string');
    } else {
      expect(typeof body.detail).toBe('string');
      expect(body.error_type).toBe(c.errorType);
      expect(body.request_id).toMatch(/^gw_/);
    }
    expect(gw.sim.calls()).toHaveLength(0);
  });

  it('refuses before validating when the key is missing or wrong', async () => {
    for (const authorization of [undefined, 'Key nope', 'Basic abc', `Key ${key}x`]) {
      const res = await fetch(gw.url + RUN, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: '{}',
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error_type: string }).error_type).toBe('unauthorized');
    }
  });
});
