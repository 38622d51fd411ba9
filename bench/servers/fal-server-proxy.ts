/**
 * Baseline: fal's official proxy, @fal-ai/server-proxy, on its framework-free core `handleRequest`
 * with a minimal node:http ProxyBehavior (what its Express adapter does, minus Express): the target
 * comes from `x-fal-target-url`, checked against allowedUrlPatterns that admit the simulated fal.
 * Like the Express adapter, the response is streamed with res.write and no backpressure.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { handleRequest, resolveProxyConfig } from '@fal-ai/server-proxy';
import { baselineEnv, onSignals } from './env.js';

const env = baselineEnv();
const config = resolveProxyConfig({
  allowedUrlPatterns: [`${env.runUrl.host}/**`, `${env.queueUrl.host}/**`],
  allowUnauthorizedRequests: false,
  isAuthenticated: () => Promise.resolve(true),
  resolveFalAuth: () => Promise.resolve(`Key ${env.falKey}`),
});

async function readText(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

const server = createServer((req, res) => {
  handleRequest<void>(
    {
      id: 'bench-node-http',
      method: req.method ?? 'GET',
      getHeaders: () => req.headers,
      getHeader: (name) => req.headers[name],
      sendHeader: (name, value) => res.setHeader(name, value),
      getRequestBody: () => readText(req),
      respondWith: (status, data) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      },
      sendResponse: async (response) => {
        res.statusCode = response.status;
        if (response.body !== null) for await (const chunk of response.body) res.write(chunk);
        res.end();
      },
    },
    config,
  ).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.keepAliveTimeout = 72_000;
server.listen(env.port, '127.0.0.1');
onSignals(() => server.close(() => process.exit(0)));
