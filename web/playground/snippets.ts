/**
 * The request the playground just sent, as code a person can run: curl, `@fal-ai/client` (host mode,
 * as the README shows it) and Python's `fal_client`. The credential is never written into them:
 * every snippet reads it from `$FAL_GATEWAY_KEY`, whatever the page was signed in with.
 */
import { MODEL_ID } from '../../src/domain/model.js';
import type { Sd35Input } from '../../src/domain/schema.js';
import { SUBMIT_PATH, requestPath } from './paths.js';

export const KEY_PLACEHOLDER = 'FAL_GATEWAY_KEY';

export interface Snippets {
  curl: string;
  js: string;
  python: string;
}

/** A POSIX shell single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A JSON value as a Python literal (JSON string escapes are valid Python string escapes). */
export function pythonLiteral(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  const inner = `${indent}    `;
  if (Array.isArray(v)) return `[${v.map((x) => pythonLiteral(x, inner)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pythonLiteral(x, inner)},`).join('\n')}\n${indent}}`;
}

/** `origin`: the gateway as the browser reached it, e.g. `https://gateway.example.com`. */
export function snippets(origin: string, input: Sd35Input): Snippets {
  const body = JSON.stringify(input);
  const url = new URL(origin);
  const auth = `-H "Authorization: Key $${KEY_PLACEHOLDER}"`;
  const curl = [
    `# Submit to the gateway's queue (fal's own paths), then follow the status and fetch the result.`,
    `curl -s -X POST ${origin}${SUBMIT_PATH} \\`,
    `  ${auth} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(body)}`,
    `# → {"request_id": "…", "status_url": "…", "response_url": "…"}; then, with REQUEST_ID set to it:`,
    `curl -sN "${origin}${requestPath('$REQUEST_ID', '/status/stream?logs=1').replace('%24', '$')}" ${auth}`,
    `curl -s "${origin}${requestPath('$REQUEST_ID').replace('%24', '$')}" ${auth}`,
  ].join('\n');

  const js = [
    `import { createFalClient } from '@fal-ai/client';`,
    ``,
    `const GW = ${JSON.stringify(origin)};`,
    `const fal = createFalClient({`,
    `  credentials: process.env.${KEY_PLACEHOLDER}, // a gateway key, never FAL_KEY`,
    `  // Host mode: fal's URLs rewritten to the gateway's own paths.`,
    `  requestMiddleware: async (req) => ({ ...req, url: req.url.replace('https://queue.fal.run/', \`\${GW}/queue/\`).replace('https://fal.run/', \`\${GW}/\`) }),`,
    `});`,
    `const { data, requestId } = await fal.subscribe(${JSON.stringify(MODEL_ID)}, {`,
    `  input: ${JSON.stringify(input, null, 2).replace(/\n/g, '\n  ')},`,
    `  logs: true,`,
    `  onQueueUpdate: (update) => console.log(update.status),`,
    `});`,
    `console.log(requestId, data.images);`,
  ].join('\n');

  const https = url.protocol === 'https:';
  const python = [
    `# fal_client reads these when it is imported, and always speaks https${https ? '' : ' (put TLS in front of this gateway first: README, TLS)'}.`,
    `import os`,
    ``,
    `os.environ["FAL_KEY"] = os.environ["${KEY_PLACEHOLDER}"]  # a gateway key, never your fal key`,
    `os.environ["FAL_RUN_HOST"] = ${JSON.stringify(url.host)}`,
    `os.environ["FAL_QUEUE_RUN_HOST"] = ${JSON.stringify(`${url.host}/queue`)}`,
    `import fal_client`,
    ``,
    `result = fal_client.subscribe(`,
    `    ${JSON.stringify(MODEL_ID)},`,
    `    arguments=${pythonLiteral(input, '    ')},`,
    `    with_logs=True,`,
    `    on_queue_update=print,`,
    `)`,
    `print(result["images"])`,
  ].join('\n');
  return { curl, js, python };
}
