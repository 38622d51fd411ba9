/**
 * The simulated fal for the benchmark: src/sim, unchanged, with three bench-only choices.
 * - An unlimited queue (jobs start at once), so status-path jobs can be parked IN_PROGRESS.
 * - A 64 MP per-image cap (src/sim/main.ts keeps 16), so S7 can ask for PNG bodies of ~8 MB.
 * - A replay front on the run origin for S7: a sync call whose prompt contains `[bench:replay]` is
 *   answered by the sim once, and afterwards from that recording (fresh x-fal-request-id each time).
 *   The sim spends 100–300 ms of CPU building one 8 MB body (PNG stamping, base64, JSON), which on
 *   two shared cores would make S7 measure the sim's encoder instead of the proxies. Every other
 *   request is relayed to the sim untouched.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { Pool } from 'undici';
import { startFalSim } from '../../src/sim/fal-sim.js';

const REPLAY_MARK = '[bench:replay]';
const port = (name: string): number => Number(process.env[name] ?? '0');

const sim = await startFalSim({
  falKey: process.env.SIM_FAL_KEY ?? 'sim-key',
  host: '127.0.0.1',
  runPort: 0,
  queuePort: port('SIM_QUEUE_PORT'),
  faults: { latencyMs: 50, queueConcurrency: Infinity },
  maxMegapixelsPerImage: 64,
});
const upstream = new Pool(sim.runUrl, { connections: 64 });

interface Recording {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}
const recordings = new Map<string, Promise<Recording>>();

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function record(req: IncomingMessage, body: Buffer): Promise<Recording> {
  const res = await upstream.request({ method: 'POST', path: req.url ?? '/', headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' }, body });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string' && k !== 'connection' && k !== 'keep-alive') headers[k] = v;
  if (res.statusCode !== 200) throw new Error(`sim answered ${res.statusCode}`);
  return { status: res.statusCode, headers, body: bytes };
}

const front = createServer((req, res) => {
  void (async () => {
    const body = req.method === 'POST' ? await readAll(req) : undefined;
    const text = body?.toString('utf8') ?? '';
    if (body !== undefined && text.includes(REPLAY_MARK)) {
      let rec = recordings.get(text);
      if (rec === undefined) {
        rec = record(req, body);
        recordings.set(text, rec);
        rec.catch(() => recordings.delete(text));
      }
      const r = await rec;
      res.writeHead(r.status, { ...r.headers, 'x-fal-request-id': randomUUID() });
      res.end(r.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'connection' && k !== 'host') headers[k] = v;
    const r = await upstream.request({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: body ?? null });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string' && k !== 'connection' && k !== 'keep-alive') out[k] = v;
    res.writeHead(r.statusCode, out);
    r.body.pipe(res);
  })().catch(() => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
front.keepAliveTimeout = 72_000;
front.listen(port('SIM_RUN_PORT'), '127.0.0.1');

const close = (): void => {
  front.close();
  Promise.all([sim.close(), upstream.close()]).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', close);
process.once('SIGINT', close);
