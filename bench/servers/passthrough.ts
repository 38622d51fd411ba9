/**
 * Baseline: the bare `node:http` pass-through proxy (the physical limit for a Node proxy). undici
 * Pool upstream with `stream()`, which writes fal's answer straight into the client's response
 * (no intermediate Readable); the request body is streamed too. The client's hop-by-hop headers
 * are dropped and the fal key is set. No auth, validation, logging or accounting.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { QUEUE_PREFIX, baselineEnv, onSignals } from './env.js';

const env = baselineEnv();
const pools = { run: new Pool(env.runUrl.origin, { connections: 256 }), queue: new Pool(env.queueUrl.origin, { connections: 256 }) };
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);
const forwardable = (h: IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (!HOP.has(k) && typeof v === 'string') out[k] = v;
  return out;
};

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  const queue = url.startsWith(`${QUEUE_PREFIX}/`);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const headers = { ...forwardable(req.headers), authorization: `Key ${env.falKey}` };
  (queue ? pools.queue : pools.run)
    .stream({ method, path: queue ? url.slice(QUEUE_PREFIX.length) : url, headers, body: hasBody ? req : null }, ({ statusCode, headers: h }) => {
      res.writeHead(statusCode, forwardable(h));
      return res;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 72_000;
server.listen(env.port, '127.0.0.1');
onSignals(() => server.close(() => process.exit(0)));
