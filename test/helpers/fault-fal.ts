/**
 * A faulty network in front of the simulated fal: two loopback listeners (run and queue) that pass
 * calls to the sim, or break them in ways the sim's prompt triggers cannot: hang before reading
 * the body, reset before headers (with or without fal having run the call), reset after headers,
 * a 5xx that never reached fal (JSON or an nginx page), a garbage 2xx. What fal ran and billed is
 * still the sim's own bill. A call's fault is chosen by `pick`, which sees the call's method, path
 * and `x-fal-runner-hint` (a header the gateway forwards, so a test can tag each call).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FalSim } from '../../src/sim/fal-sim.js';

export type WireFault =
  | 'pass'
  /** Never reads the request body, never answers: fal never ran it. */
  | 'hang-before-body'
  /** Reads the body, drops the connection without a byte back: fal never ran it. */
  | 'reset-before-headers-unsent'
  /** fal runs (and bills) the call, then the connection drops before any header. */
  | 'reset-before-headers'
  /** fal's status line and headers arrive, then the connection drops before the body. */
  | 'reset-after-headers'
  /** fal's headers and half its body arrive, then the connection drops. */
  | 'reset-mid-body'
  /** fal runs the call and its headers come back, the body is not JSON. */
  | 'garbage'
  | { status: 502 | 503 | 504 | 500; nginx: boolean };

export interface CallInfo {
  origin: 'run' | 'queue';
  method: string;
  path: string;
  hint: string | undefined;
}

export interface FaultFal {
  runUrl: string;
  queueUrl: string;
  /** Faults applied so far, by name. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

export const NGINX_PAGE = (status: number): string => `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

export function faultName(f: WireFault): string {
  return typeof f === 'string' ? f : `${f.status}${f.nginx ? '-nginx' : '-json'}`;
}

/** `sim` is read at each call, so a test may point it at a sim started after this front. */
export async function startFaultFal(sim: Pick<FalSim, 'runUrl' | 'queueUrl'>, pick: (call: CallInfo) => WireFault): Promise<FaultFal> {
  const counts: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const make = (origin: 'run' | 'queue', target: () => string): Server => {
    const server = createServer((req, res) => {
      const hint = req.headers['x-fal-runner-hint'];
      const fault = pick({ origin, method: req.method ?? 'GET', path: req.url ?? '/', hint: typeof hint === 'string' ? hint : undefined });
      const name = faultName(fault);
      counts[name] = (counts[name] ?? 0) + 1;
      void apply(fault, req, res, target()).catch(() => res.destroy());
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    return server;
  };
  const run = make('run', () => sim.runUrl);
  const queue = make('queue', () => sim.queueUrl);
  const [runUrl, queueUrl] = await Promise.all([listen(run), listen(queue)]);
  return {
    runUrl,
    queueUrl,
    counts: () => ({ ...counts }),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([run, queue].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

async function apply(fault: WireFault, req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
  if (fault === 'hang-before-body') return; // the socket stays open until the caller gives up
  const body = await readAll(req);
  if (fault === 'reset-before-headers-unsent') return void res.destroy();
  if (typeof fault === 'object') {
    const text = fault.nginx ? NGINX_PAGE(fault.status) : JSON.stringify({ detail: 'Bad gateway', error_type: 'upstream_error' });
    res.writeHead(fault.status, { 'content-type': fault.nginx ? 'text/html' : 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    return void res.end(text);
  }
  const up = await forward(req, body, target);
  if (fault === 'pass') {
    // Streamed, not buffered: a fault of the sim's own (`[sim:reset]` mid-body) must reach the
    // gateway as the sim made it.
    res.writeHead(up.statusCode ?? 502, hopByHopRemoved(up));
    up.once('error', () => res.destroy());
    up.once('aborted', () => res.destroy());
    return void up.pipe(res);
  }
  const upBody = await readAll(up);
  if (fault === 'reset-before-headers') return void res.destroy();
  const headers = hopByHopRemoved(up);
  if (fault === 'garbage') {
    const text = '<html>upstream hiccup</html>';
    res.writeHead(up.statusCode ?? 502, { ...headers, 'content-type': 'text/html', 'content-length': String(text.length) });
    return void res.end(text);
  }
  res.writeHead(up.statusCode ?? 502, headers);
  if (fault === 'reset-after-headers') {
    res.flushHeaders();
    setTimeout(() => res.destroy(), 20);
  } else {
    res.write(upBody.subarray(0, Math.floor(upBody.length / 2)), () => res.destroy());
  }
}

function hopByHopRemoved(up: IncomingMessage): IncomingMessage['headers'] {
  const headers = { ...up.headers };
  delete headers.connection;
  delete headers['keep-alive'];
  return headers;
}

function forward(req: IncomingMessage, body: Buffer, target: string): Promise<IncomingMessage> {
  const url = new URL(req.url ?? '/', target);
  const headers = { ...req.headers, host: url.host };
  return new Promise((resolve, reject) => {
    const out = httpRequest(url, { method: req.method, headers }, resolve);
    out.once('error', reject);
    out.end(body);
  });
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}
