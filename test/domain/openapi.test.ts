import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/domain/openapi.js';

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (v: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((node, k) => (isJson(node) ? node[k] : undefined), v);

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) collectRefs(n, out);
  else if (isJson(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

const doc = buildOpenApiDocument({ publicUrl: 'https://gw.example.com' });
const Q = '/queue/fal-ai/stable-diffusion-v35-medium';
const R = `${Q}/requests/{request_id}`;

describe('buildOpenApiDocument', () => {
  it('is an OpenAPI 3.1 document of plain JSON', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(doc.servers).toEqual([{ url: 'https://gw.example.com' }]);
    expect(buildOpenApiDocument({})).not.toHaveProperty('servers');
  });

  it('documents every mirrored path and method', () => {
    const expected: Record<string, string[]> = {
      '/fal-ai/stable-diffusion-v35-medium': ['post'],
      [Q]: ['post'],
      [`${R}/status`]: ['get'],
      [`${R}/status/stream`]: ['get'],
      [R]: ['get'],
      [`${R}/response`]: ['get'],
      [`${R}/cancel`]: ['put'],
      '/api/fal/proxy': ['post', 'get', 'put', 'options'],
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/metrics': ['get'],
      '/v1/tokens': ['post'],
      '/v1/usage': ['get'],
      '/admin/admins': ['post', 'get'],
      '/admin/admins/{id}': ['delete'],
      '/admin/audit': ['get'],
      '/admin/keys': ['post', 'get'],
      '/admin/keys/{id}': ['get', 'patch', 'delete'],
      '/admin/teams': ['get'],
      '/admin/teams/{name}': ['get', 'put'],
      '/admin/usage': ['get'],
      '/admin/requests': ['get'],
      '/admin/keys/{id}/rotate': ['post'],
      '/console/api/session': ['post', 'get', 'delete'],
    };
    const paths = doc.paths as Record<string, Json>;
    expect(Object.keys(paths).sort()).toEqual(Object.keys(expected).sort());
    for (const [path, methods] of Object.entries(expected)) {
      for (const m of methods) expect(paths[path], `${m} ${path}`).toHaveProperty(m);
    }
  });

  it('resolves every $ref to an existing component', () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const r of refs) {
      expect(r).toMatch(/^#\/components\/(schemas|responses|headers|parameters)\/[^/]+$/);
      const [, , kind, name] = r.split('/');
      expect(at(doc, 'components', kind ?? '', name ?? ''), r).toBeDefined();
    }
  });

  it('gives every operationId once and a parameter for every path template', () => {
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const op of Object.values(item)) if (isJson(op) && typeof op.operationId === 'string') ids.push(op.operationId);
      if (path.includes('{request_id}')) expect(item.parameters).toEqual([{ $ref: '#/components/parameters/request_id' }]);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents generation responses, errors and cost headers', () => {
    const responses = at(doc, 'paths', '/fal-ai/stable-diffusion-v35-medium', 'post', 'responses') as Json;
    expect(Object.keys(responses).sort()).toEqual(['200', '400', '401', '402', '403', '409', '413', '415', '422', '429', '500', '502', '503', '504']);
    expect(at(doc, 'components', 'parameters', 'Idempotency-Key', 'in')).toBe('header');
    const headers = Object.keys((at(doc, 'components', 'responses') as Json) ?? {});
    expect(headers).toEqual(expect.arrayContaining(['401', '402', '403', '404', '413', '415', '422', '429', '502', '503', '504']));
    const ok = at(responses, '200', 'headers') as Json;
    for (const h of ['x-fal-request-id', 'x-gateway-request-id', 'x-gateway-cost-usd', 'x-gateway-megapixels', 'x-gateway-budget-remaining-usd']) {
      expect(ok).toHaveProperty([h]);
    }
    expect(at(doc, 'components', 'responses', '429', 'headers')).toHaveProperty(['retry-after']);
    expect(at(doc, 'paths', `${R}/status/stream`, 'get', 'responses', '200', 'content')).toHaveProperty(['text/event-stream']);
    expect(at(doc, 'components', 'parameters', 'x-fal-target-url', 'in')).toBe('header');
  });

  it('declares Key and Bearer auth, and leaves health and preflight public', () => {
    expect(at(doc, 'components', 'securitySchemes', 'falKey')).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(at(doc, 'components', 'securitySchemes', 'bearer')).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(at(doc, 'paths', '/healthz', 'get', 'security')).toEqual([]);
    expect(at(doc, 'paths', '/api/fal/proxy', 'options', 'security')).toEqual([]);
  });

  it('states the unknown-field policy and reflects it in the input schema', () => {
    const text = JSON.stringify(at(doc, 'components', 'responses', '422'));
    expect(text).toContain('extra_forbidden');
    expect(text).toContain('UNKNOWN_FIELDS=forward');
    expect(at(doc, 'components', 'schemas', 'Sd35Input', 'additionalProperties')).toBe(false);
    const open = buildOpenApiDocument({ unknownFields: 'forward' });
    expect(at(open, 'components', 'schemas', 'Sd35Input', 'additionalProperties')).toBe(true);
    expect(at(open, 'components', 'schemas', 'ImageSize', 'additionalProperties')).toBe(true);
  });

  it('ships component schemas that validate like the gateway does', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ ...doc, $id: 'https://gw.example.com/openapi.json' });
    const validate = ajv.getSchema('https://gw.example.com/openapi.json#/components/schemas/Sd35Input');
    expect(validate).toBeDefined();
    if (!validate) return;
    expect(validate({ prompt: 'p', image_size: { width: 64, height: 64 } })).toBe(true);
    expect(validate({ prompt: 'p', image_size: 'square_hd' })).toBe(true);
    expect(validate({ prompt: 'p', image_size: 'huge' })).toBe(false);
    expect(validate({ prompt: 'p', num_images: 5 })).toBe(false);
    expect(validate({ prompt: 'p', extra: 1 })).toBe(false);
  });
});
