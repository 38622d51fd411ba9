/**
 * The gateway serving https itself (TLS_CERT_FILE / TLS_KEY_FILE), with a throwaway CA made here by
 * the openssl CLI: the real @fal-ai/client runs over it (proxyUrl and host mode, SSE status stream
 * included), a client process trusting the CA through NODE_EXTRA_CA_CERTS works as the README says,
 * and SIGHUP swaps the certificate without a restart.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createFalClient, type QueueStatus } from '@fal-ai/client';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const FAL_KEY = 'fal_tls_test_key';
const ADMIN = 'admin-token-for-tls-tests';
const MODEL = 'fal-ai/stable-diffusion-v35-medium';
const dir = mkdtempSync(join(tmpdir(), 'fgw-tls-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A leaf for localhost/127.0.0.1 signed by the test CA, written to `name`.crt/.key. */
function issue(name: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', '/CN=localhost', '-out', `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ${ext}`]);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.crt`);
}

let sim: FalSim;
let gw: GatewayProcess;
let key: string;
let ca: Buffer;
let dispatcher: Agent;

beforeAll(async () => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=fal-gateway test CA', '-days', '2', '-out', 'ca.crt');
  issue('server');
  ca = readFileSync(join(dir, 'ca.crt'));
  dispatcher = new Agent({ connect: { ca } });
  sim = await startFalSim({ falKey: FAL_KEY, faults: { latencyMs: 300 } });
  gw = await startGatewayProcess({
    FAL_KEY,
    FAL_RUN_URL: sim.runUrl,
    FAL_QUEUE_URL: sim.queueUrl,
    DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`,
    ADMIN_TOKEN: ADMIN,
    HOST: '127.0.0.1',
    TLS_CERT_FILE: join(dir, 'server.crt'),
    TLS_KEY_FILE: join(dir, 'server.key'),
  });
  const res = await undiciFetch(`${gw.url}/admin/keys`, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"name":"tls"}' });
  key = ((await res.json()) as { key: string }).key;
}, 60_000);
afterAll(async () => {
  await gw.stop();
  await sim.close();
  await dispatcher.close();
});

// @fal-ai/client takes a custom fetch: undici's, trusting the test CA (the process-wide way, as
// operators do it, is NODE_EXTRA_CA_CERTS: the last test).
const trustingFetch = ((input: string, init?: Parameters<typeof undiciFetch>[1]) => undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;

interface Output {
  images: { width: number }[];
}

describe('direct TLS', () => {
  it('serves https on the configured certificate', () => {
    expect(gw.url.startsWith('https://')).toBe(true);
  });

  it('runs @fal-ai/client over https with proxyUrl: run, and subscribe following the SSE status stream', async () => {
    const fal = createFalClient({ credentials: key, fetch: trustingFetch, proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: 'always' } });
    const run = await fal.run(MODEL, { input: { prompt: 'tls run', image_size: 'square' } });
    expect((run.data as Output).images[0]?.width).toBe(512);
    const states: string[] = [];
    const sub = await fal.subscribe(MODEL, { input: { prompt: 'tls stream', image_size: 'square' }, mode: 'streaming', onQueueUpdate: (s: QueueStatus) => states.push(s.status) });
    expect((sub.data as Output).images).toHaveLength(1);
    expect(states.at(-1)).toBe('COMPLETED');
  });

  it('runs @fal-ai/client in host mode (fal URLs rewritten to the gateway), SSE included', async () => {
    const fal = createFalClient({
      credentials: key,
      fetch: trustingFetch,
      requestMiddleware: (req) => Promise.resolve({ ...req, url: req.url.replace('https://queue.fal.run/', `${gw.url}/queue/`).replace('https://fal.run/', `${gw.url}/`) }),
    });
    const run = await fal.run(MODEL, { input: { prompt: 'host run', image_size: 'square' } });
    expect((run.data as Output).images).toHaveLength(1);
    const streamsBefore = sim.calls().filter((c) => c.op === 'stream').length;
    const states: string[] = [];
    const sub = await fal.subscribe(MODEL, { input: { prompt: 'host stream', image_size: 'square' }, mode: 'streaming', onQueueUpdate: (s: QueueStatus) => states.push(s.status) });
    expect((sub.data as Output).images).toHaveLength(1);
    expect(states.at(-1)).toBe('COMPLETED');
    expect(sim.calls().filter((c) => c.op === 'stream').length).toBe(streamsBefore + 1);
  });

  it('works for a client process that trusts the CA through NODE_EXTRA_CA_CERTS', async () => {
    const script = `
      import { createFalClient } from '@fal-ai/client';
      const fal = createFalClient({ credentials: process.env.GW_KEY, proxyUrl: { url: process.env.GW_URL + '/api/fal/proxy', when: 'always' } });
      const r = await fal.subscribe('${MODEL}', { input: { prompt: 'extra ca', image_size: 'square' }, mode: 'streaming' });
      process.stdout.write(String(r.data.images.length));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'), GW_KEY: key, GW_URL: gw.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, out, err }).toMatchObject({ code: 0, out: '1' });
  }, 60_000);

  it('reloads the certificate on SIGHUP without dropping the listener', async () => {
    const fingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const port = Number(new URL(gw.url).port);
        const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.end();
        });
        socket.once('error', reject);
      });
    const before = await fingerprint();
    issue('next');
    renameSync(join(dir, 'next.crt'), join(dir, 'server.crt'));
    renameSync(join(dir, 'next.key'), join(dir, 'server.key'));
    gw.child.kill('SIGHUP');
    let after = before;
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await fingerprint();
    }
    expect(after).not.toBe(before);
    expect(gw.child.exitCode).toBe(null);
    const res = await undiciFetch(`${gw.url}/readyz`, { dispatcher });
    expect(res.status).toBe(200);
  });
});
