/**
 * The OpenAPI document against the running app: every route the app serves (bar the hidden ones
 * listed here) is documented with its method, nothing documented is missing from the app, and the
 * live answers of the reports and /v1/usage validate against their documented schemas, which
 * forbid undocumented fields.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

type Json = Record<string, unknown>;
let gw: TestGateway;
let doc: Json;

beforeAll(async () => {
  gw = await startTestGateway();
  doc = (await (await fetch(`${gw.url}/docs/openapi.json`)).json()) as Json;
});
afterAll(() => gw.close());

/**
 * Routes no client calls as an API: the documentation itself, the CORS preflight of every path, and
 * the console and playground pages with their static assets (src/http/routes/web.ts; `/*` is how
 * the tree prints the assets' wildcard).
 */
const HIDDEN = [/^\/docs(\/|$)/, /^\*$/, /^\/$/, /^\/\*$/, /^\/console\*?$/, /^\/playground$/, /^\/assets\//];

/**
 * The app's routes as `METHOD /path` from printRoutes' tree: a line's depth is where its text
 * starts (4 columns a level); a host-constrained line (the `queue.` host) is the `/queue` path.
 */
function appRoutes(app: TestGateway['app']): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const start = line.search(/[^│├└─ ]/);
    if (start < 0) continue;
    const m = /^(\S+) \(([A-Z, ]+)\)(.*)$/.exec(line.slice(start));
    if (!m) throw new Error(`unparsed route line: ${line}`);
    const [, segment = '', methods = '', rest = ''] = m;
    const depth = Math.floor(start / 4);
    stack.length = depth;
    stack[depth] = segment;
    let path = stack.join('');
    if (HIDDEN.some((h) => h.test(path))) continue;
    if (rest.includes('"host"')) path = path.startsWith('/queue') ? path : `/queue${path}`;
    for (const method of methods.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path.replace(/:[A-Za-z_]+/g, '{}')}`);
  }
  return [...new Set(out)].sort();
}

function documented(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of Object.keys(item)) if (method !== 'parameters') out.push(`${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`);
  }
  return out.sort();
}

const call = async (path: string, auth = `Bearer ${gw.adminToken}`) => {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: auth } });
  return { status: res.status, body: (await res.json()) };
};

function schemaOf(path: string, method = 'get'): Json {
  const op = (doc.paths as Record<string, Record<string, Json>>)[path]?.[method];
  const schema = ((op?.responses as Json | undefined)?.['200'] as Json | undefined)?.content as Record<string, Json> | undefined;
  const s = schema?.['application/json']?.schema as Json | undefined;
  if (!s) throw new Error(`no 200 JSON schema for ${method} ${path}`);
  return s;
}

describe('the OpenAPI document and the app', () => {
  it('documents every route the app serves, and only those', () => {
    const served = appRoutes(gw.app);
    expect(served).toContain('GET /admin/requests');
    expect(served).toContain('GET /queue/fal-ai/stable-diffusion-v35-medium/requests/{}/status');
    expect(documented()).toEqual(served);
  });

  it('validates the live answers of the reports and /v1/usage against their documented schemas', async () => {
    const { id, key } = await gw.createKey({ name: 'docs', team: 'design', budget_usd: 5 });
    await fetch(`${gw.url}/admin/teams/empty`, { method: 'PUT', headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ budget_usd: 1 }) });
    const run = (input: Json) => fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect((await run(validInput())).status).toBe(200);
    expect((await run(validInput({ prompt: 'boom [sim:error]' }))).status).toBe(500);

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const cases: [string, string, string?][] = [
      ['/admin/keys', '/admin/keys'],
      ['/admin/keys?team=design&status=active', '/admin/keys'],
      [`/admin/keys/${id}`, '/admin/keys/{id}'],
      ['/admin/teams', '/admin/teams'],
      ['/admin/teams/design', '/admin/teams/{name}'],
      ['/admin/teams/empty', '/admin/teams/{name}'],
      ['/admin/usage', '/admin/usage'],
      ...['day', 'hour', 'key', 'team', 'end_user', 'day,key', 'day,team', 'hour,key', 'hour,team'].map((g): [string, string] => [`/admin/usage?group_by=${g}`, '/admin/usage']),
      ['/admin/requests?limit=1', '/admin/requests'],
      ['/admin/requests', '/admin/requests'],
      ['/v1/usage', '/v1/usage', `Key ${key}`],
    ];
    for (const [url, path, auth] of cases) {
      const { status, body } = await call(url, auth);
      expect(status, url).toBe(200);
      const validate = ajv.compile(schemaOf(path));
      expect(validate(body) ? [] : validate.errors, url).toEqual([]);
    }
    const page = (await call('/admin/requests')).body as { requests: Json[] };
    expect(page.requests).toHaveLength(2);
    const put = await fetch(`${gw.url}/admin/teams/design`, { method: 'PUT', headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ budget_daily_usd: 3 }) });
    const validatePut = ajv.compile(schemaOf('/admin/teams/{name}', 'put'));
    expect(validatePut(await put.json()) ? [] : validatePut.errors).toEqual([]);
  });
});
